"""mer_ser: emotion recognition in speech (SER) and music (MER), and transfer between them.

The package mirrors the research pipeline; data flows one way:

``corpora`` (data in) -> ``features`` -> ``train`` -> ``experiments`` -> ``stats`` / ``plots``.

A lower stage never imports a higher one. Notebooks under ``notebooks/`` call into these modules
and write every figure under ``figures/``.
"""

__version__ = "0.1.0"

__all__ = ["__version__", "predict"]


def __getattr__(name: str):
    """``mer_ser.predict``: :func:`mer_ser.bundles.predict`, imported on first use."""
    if name == "predict":
        from mer_ser.bundles import predict

        return predict
    raise AttributeError(f"module 'mer_ser' has no attribute {name!r}")
