"""The skills tokenizer: spaCy's, with infixes that split the words a scrape glued together.

Shared by the ruler's pattern builder and every pipeline, so patterns are tokenized like postings.
"""

from __future__ import annotations

from typing import Any

from spacy.language import Language

# Scraped postings lost their line breaks: "PythonDemonstrated", "R.You", "Kubernetes)Basic", "C#Vous".
GLUE_INFIXES = (
    r"(?<=[a-z#+)])(?=[A-Z][a-zàâçéèêëîïôûù])",  # lower (or C#, C++) then a capitalised word
    r"(?<=[A-Z]{2})(?=[A-Z][a-zàâçéèêëîïôûù]{2,})",  # an acronym then a capitalised word: "VBACompétences"
    r"(?<=[a-z]{3})(?=[A-Z]{3,}(?![A-Za-z]))",  # a word then an acronym: "DjangoJIRA" (not "NoSQL")
    r"(?<=[A-Za-z#+])\.(?=[A-Z])",  # a full stop with no space after it: "R.You", "C#.Les"
    r"(?<=[\w#+])[)\]](?=\w)",  # a closing bracket glued to the next word
    r"(?<=[\w#+])/(?=[\w.])",  # a slash between two names: "C#/.Net", "Python/R"
)
# Names whose symbol the language's rules would split off ("C#" → "C", "#"); kept as one token.
SYMBOL_NAMES = ("C#", "c#", "F#", "f#")


def split_glued_words(nlp: Language) -> Language:
    """Extend the tokenizer's infixes so words glued by the scrape become separate tokens.

    The rules are stored with the pipeline (``nlp.to_disk``), so a loaded model tokenizes alike.
    Patterns are tokenized by the same rules, so a name split here ("XG", "Boost") still matches.
    """
    from spacy.attrs import ORTH
    from spacy.util import compile_infix_regex

    infixes = list(nlp.Defaults.infixes or []) + list(GLUE_INFIXES)
    tokenizer: Any = nlp.tokenizer
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    for name in SYMBOL_NAMES:
        tokenizer.add_special_case(name, [{ORTH: name}])
    return nlp
