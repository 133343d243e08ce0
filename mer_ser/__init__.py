"""mer_ser: emotion recognition in speech (SER) and music (MER), and transfer between them.

The package mirrors the research pipeline; data flows one way:

``corpora`` (data in) -> ``features`` -> ``train`` -> ``experiments`` -> ``stats`` / ``plots``.

A lower stage never imports a higher one. Notebooks under ``notebooks/`` call into these modules
and write every figure under ``figures/``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
