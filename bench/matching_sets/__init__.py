"""Labelled factory lists for measuring the registry's matcher: a seeded generator and two vocabularies.

`generator.build(vocabulary, seed)` makes a registry and the submissions a country office would send against it,
each submission labelled with the registered factory it is (or None) and the kind of variation or hard negative
it carries. The development set and the test set use different seeds and different name and place vocabularies
(`vocabulary.DEV`, `vocabulary.TEST`): rules are tuned on the first and only reported on the second.
"""
