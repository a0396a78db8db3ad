"""GET /metrics: the Prometheus counters' series in the text exposition format, and nothing that changes them.

It stands in for pip_services3_prometheus 3.1.2's PrometheusMetricsService, whose `GET /metricsandreset` let any
client zero every series (which Prometheus then reads as counter resets) and whose text was written by hand.
"""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)
from microservice_chassis.library_fixes.rest_service import RepairedRestService

from typing import Any

import bottle
from pip_services3_commons.refer import Descriptor, IReferences
from pip_services3_rpc.services import RestService
from prometheus_client import CONTENT_TYPE_PLAIN_0_0_4, generate_latest

COUNTERS_LOCATOR = Descriptor("*", "counters", "prometheus", "*", "1.0")


class MetricsService(RepairedRestService, RestService):
    """`chassis:metrics-service:prometheus:default:1.0`: writes the `registry` of the `*:counters:prometheus:*:1.0`
    component (PrometheusCounters) at GET /metrics, on the shared endpoint."""

    def __init__(self) -> None:
        super().__init__()
        self._registry: Any = None

    def set_references(self, references: IReferences) -> None:
        super().set_references(references)
        self._registry = references.get_one_required(COUNTERS_LOCATOR).registry

    def register(self) -> None:
        self.register_route("get", "/metrics", None, self._metrics)

    def _metrics(self) -> bytes:
        bottle.response.content_type = CONTENT_TYPE_PLAIN_0_0_4  # the version every Prometheus 2 reads
        return generate_latest(self._registry)
