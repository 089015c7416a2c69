"""Real or RNN? -- a "which is the real Shakespeare?" game on n-gram and RNN language models."""

__version__ = "0.1.0"
