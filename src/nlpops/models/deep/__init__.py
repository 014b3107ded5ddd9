"""Deep text classifiers in plain PyTorch: embeddings + pooling, (Bi)LSTM or 1-D CNN.

The modules split the work one way: ``vocab`` (tokens → ids), ``vectors`` (word2vec / fastText
/ GloVe through gensim), ``nets`` (the ``nn.Module``s), ``trainer`` (the loop) and ``estimator``
(the :class:`~nlpops.models.base.TextClassifier` that ties them together). Importing this
package imports nothing heavy; the registry imports ``estimator`` (hence torch) on demand.
"""
