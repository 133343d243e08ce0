"""Speed and performance measurements, off the research path.

* :mod:`mer_ser.bench.training`: training steps against PyTorch, vmapped throughput, the
  matrix-product work of a step (``mer-ser bench train``).
* :mod:`mer_ser.bench.features`: feature-extraction speed and a cached rerun
  (``mer-ser bench features``).
* :mod:`mer_ser.bench.performance`: the performance notebook's measurements and speed targets.
* :mod:`mer_ser.bench.machine`: the description of the machine a timing was made on.
* :mod:`mer_ser.bench.gpu`: the prepared GPU check, one JSON record (``mer-ser bench gpu``,
  ``make gpu-check``).
* :mod:`mer_ser.bench.torch_reference`: the DCNN and ADCRNN in PyTorch, the reference of the
  convolutional steps.
* :mod:`mer_ser.bench.prediction`: end-to-end prediction speed of a model bundle
  (``mer-ser bench predict``).

PyTorch is optional: only the comparisons need it (``pip install mer_ser[bench]``).
"""
