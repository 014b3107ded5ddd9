"""nlpops: the whole life of an NLP model, from raw text to a watched production service."""

__version__ = "0.1.0"
