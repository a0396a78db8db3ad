"""The log, as every line of the process writes it.

- line_format: one line of text or one JSON object, the same fields for every writer
- client_text: text a client sent, bounded and escaped before any line or answer holds it
- writer: the writer threads behind stdout and stderr, dropping (and counting) lines nobody reads
- rate_limit: repeated rejection lines summed up instead of written each time
- output: LogOutput, the component that counts the dropped lines and sets the drain time at exit
"""
