"""Prometheus metrics: PrometheusCounters (plain series a request adds to, read by prometheus_client at scrape),
MetricsService (GET /metrics), and the interfaces the services and the endpoint meet it through."""
