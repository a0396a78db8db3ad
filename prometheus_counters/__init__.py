"""The parts of HelloWorldPrometheusCounters: plain series a request adds to, read by prometheus_client at scrape."""
