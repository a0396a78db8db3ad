"""The parts of PrometheusCounters: plain series a request adds to, read by prometheus_client at scrape."""
