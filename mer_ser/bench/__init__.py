"""Speed and performance measurements, off the research path.

* :mod:`mer_ser.bench.training`: training steps against PyTorch, vmapped throughput, the
  matrix-product work of a step (``mer-ser bench train``).
* :mod:`mer_ser.bench.features`: feature-extraction speed and a cached rerun
  (``mer-ser bench features``).
* :mod:`mer_ser.bench.performance`: the performance notebook's measurements and speed targets.
* :mod:`mer_ser.bench.machine`: the description of the machine a timing was made on.
* :mod:`mer_ser.bench.engine_fit`: a step inside the engine's compiled fit against the
  standalone step (``python -m mer_ser.bench.engine_fit``, meant for a GPU).

PyTorch is optional: only the comparisons need it (``pip install mer_ser[bench]``).
"""
