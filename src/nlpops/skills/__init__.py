"""Skills extraction from job postings: EntityRuler patterns, doccano import, spaCy NER, scores, reports."""
