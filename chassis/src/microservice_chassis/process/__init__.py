"""The process a service runs in: its start (startup), its container (container.ChassisProcess), the Python check, the
command line, the parameters, the config reader, stop signals, output streams and the service's identity."""
