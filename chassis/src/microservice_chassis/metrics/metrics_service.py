"""GET /metrics: the Prometheus counters' series, in the format and encoding the scraper asks for, and nothing that
changes them.

It stands in for pip_services3_prometheus 3.1.2's PrometheusMetricsService, whose `GET /metricsandreset` let any
client zero every series (which Prometheus then reads as counter resets) and whose text was written by hand, in
one format, uncompressed.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.rest_service import RepairedRestService

import gzip
from typing import Any

import bottle
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_rpc.services import RestService
from prometheus_client.exposition import choose_encoder, gzip_accepted

from microservice_chassis.http.guards import METRICS_PATH

COUNTERS_LOCATOR = Descriptor("*", "counters", "prometheus", "*", "1.0")


class MetricsService(RepairedRestService, RestService):
    """`chassis:metrics-service:prometheus:default:1.0`: writes the `registry` of the `*:counters:prometheus:*:1.0`
    component (PrometheusCounters) at GET /metrics, on the shared endpoint.

    The format and the compression are negotiated as prometheus_client's own exposition servers do (its
    `choose_encoder`, `gzip_accepted`): OpenMetrics for `Accept: application/openmetrics-text` (what Prometheus
    asks first), else the text format 0.0.4 (every Prometheus 2 reads it); gzip for `Accept-Encoding: gzip`
    (Prometheus always sends it: the whole service's scrape is some 33 KB, 2.5 KB gzipped)."""

    def __init__(self) -> None:
        super().__init__()
        self._registry: Any = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._registry = references.get_one_required(COUNTERS_LOCATOR).registry

    def register(self) -> None:
        self.register_route("get", METRICS_PATH, None, self._metrics)

    def _metrics(self) -> bytes:
        request, response = bottle.request, bottle.response
        encoder, response.content_type = choose_encoder(request.get_header("Accept"))
        text = encoder(self._registry)
        response.set_header("Vary", "Accept, Accept-Encoding")  # one URL, several answers: caches must tell them apart
        if not gzip_accepted(request.get_header("Accept-Encoding")):
            return text
        response.set_header("Content-Encoding", "gzip")
        return gzip.compress(text)
