"""civic-iot: the command line, the demo, and pieces every role shares."""
