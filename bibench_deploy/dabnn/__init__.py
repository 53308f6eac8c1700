"""The ARM path: daBNN models (.dab): format, bit-packing, converter from ONNX, reference executor,
and the parser of daBNN's benchmark output."""
