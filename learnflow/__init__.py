"""learnflow: a terminal copilot for learning in the flow of work."""

__version__ = "0.1.0"
