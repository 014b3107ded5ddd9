"""Hugging Face models under the nlpops contract: fine-tuned transformers, sentence embeddings, ONNX.

Modules: ``checkpoints`` (where weights come from, offline-safe), ``windows`` (tokens, windows,
batches), ``finetune`` (the training loop), ``estimator`` (``TransformerClassifier``), ``sentence``
(``SentenceLRClassifier``) and ``onnx`` (export, int8 quantisation, ONNX Runtime inference).
Nothing here is imported by ``import nlpops``: torch and transformers load only when a kind is built.
"""
