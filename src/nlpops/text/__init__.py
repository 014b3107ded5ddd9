"""Text preprocessing: composable, named str → str steps grouped into recipes.

>>> from nlpops.text import build_preprocessor
>>> build_preprocessor("stem").transform("I don't like it!!!! :( http://t.co/x")
['not like ! ! sad xxurl']
"""

from nlpops.text.lexical import tokenize
from nlpops.text.recipes import RECIPES, TextPipeline, build_preprocessor
from nlpops.text.steps import STEPS, build_step

__all__ = ["RECIPES", "STEPS", "TextPipeline", "build_preprocessor", "build_step", "tokenize"]
