"""civic-iot: the command line, the demo, and pieces every role shares."""

__version__ = "0.1.0"
