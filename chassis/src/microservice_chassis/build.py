"""Creates the chassis' components by their descriptors, as a service's config.yml names them (group `chassis`)."""

import microservice_chassis.library_fixes  # noqa: F401 (before any pip_services3 import: it fixes their defects)

from pip_services3_commons.refer import Descriptor
from pip_services3_components.build import Factory

from microservice_chassis.http.endpoint import GranianHttpEndpoint
from microservice_chassis.log.output import LogOutput
from microservice_chassis.metrics.metrics_service import MetricsService
from microservice_chassis.metrics.prometheus_counters import PrometheusCounters
from microservice_chassis.services.swagger_ui import SwaggerUiService
from microservice_chassis.tracing.tracer import OpenTelemetryTracer


class ChassisFactory(Factory):
    """The factory every process container of the chassis (ChassisProcess) asks for the `chassis:*` components."""

    HttpEndpointDescriptor = Descriptor("chassis", "endpoint", "http", "*", "1.0")
    SwaggerServiceDescriptor = Descriptor("chassis", "swagger-service", "default", "*", "1.0")
    PrometheusCountersDescriptor = Descriptor("chassis", "counters", "prometheus", "*", "1.0")
    MetricsServiceDescriptor = Descriptor("chassis", "metrics-service", "prometheus", "*", "1.0")
    LogOutputDescriptor = Descriptor("chassis", "log-output", "default", "*", "1.0")
    TracerDescriptor = Descriptor("chassis", "tracer", "opentelemetry", "*", "1.0")

    def __init__(self) -> None:
        super().__init__()
        self.register_as_type(self.HttpEndpointDescriptor, GranianHttpEndpoint)
        self.register_as_type(self.SwaggerServiceDescriptor, SwaggerUiService)
        self.register_as_type(self.PrometheusCountersDescriptor, PrometheusCounters)
        self.register_as_type(self.MetricsServiceDescriptor, MetricsService)
        self.register_as_type(self.LogOutputDescriptor, LogOutput)
        self.register_as_type(self.TracerDescriptor, OpenTelemetryTracer)
