"""ResNets with BasicBlocks: CIFAR forms (3x3 stem, 32x32) and an ImageNet-stem ResNet-18."""

from __future__ import annotations

from typing import Any

from bibench_deploy.algorithms.base import Algorithm
from bibench_deploy.architectures import ARCHITECTURES
from bibench_deploy.architectures.base import Architecture, batch_norm, conv_bn


def basic_block(x: Any, algo: Algorithm, filters: int, strides: int, name: str,
                deploy: bool) -> Any:
    import tensorflow as tf
    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = conv_bn(x, filters, 1, strides, f"{name}_downsample")
    y = algo.binary_conv(x, filters, 3, strides, f"{name}_conv1", deploy)
    y = algo.activation(batch_norm(y, f"{name}_conv1_bn"), f"{name}_act1")
    y = algo.binary_conv(y, filters, 3, 1, f"{name}_conv2", deploy)
    y = batch_norm(y, f"{name}_conv2_bn")
    y = tf.keras.layers.Add(name=f"{name}_add")([y, shortcut])
    return algo.activation(y, f"{name}_act2")


def imagenet_stem(x: Any, algo: Algorithm, filters: int) -> Any:
    """PyTorch's (and BiBench's) ResNet stem: 7x7/2 conv with padding 3, BatchNorm, activation,
    3x3/2 max pool with padding 1 that ignores its padding; 224 -> 112 -> 56 pixels.

    TF 'same' would pad 2 before and 3 after for the conv and 0 before and 1 after for the pool
    on even inputs, another sampling grid that daBNN's symmetric padding cannot express. The
    conv reads an explicit ZeroPadding2D of 3 before and 2 after: on an even input its last
    window ends inside that, so it computes PyTorch's padding 3 exactly (the third trailing row
    and column are never read), and LCE 0.16 keeps it as PAD + CONV_2D; it fuses a symmetric
    ZeroPadding2D(3) into the conv as SAME padding (2 before, 3 after), which is wrong. The
    pool pads with -inf (`max_pool_padding`), so padding never wins a window whatever the sign
    of the activation (Hardtanh's output is negative too).
    """
    import tensorflow as tf
    from bibench_deploy.algorithms.layers import max_pool_padding
    trailing = 2 if x.shape[1] % 2 == 0 else 3  # on odd inputs all 3 are read
    x = tf.keras.layers.ZeroPadding2D(((3, trailing), (3, trailing)), name="stem_pad")(x)
    x = tf.keras.layers.Conv2D(filters, 7, strides=2, padding="valid", use_bias=False,
                               kernel_initializer="he_normal", name="stem")(x)
    x = algo.activation(batch_norm(x, "stem_bn"), "stem_act")
    x = max_pool_padding(x, 1, "stem_pool_pad")
    return tf.keras.layers.MaxPool2D(3, 2, padding="valid", name="stem_pool")(x)


def resnet_body(widths: tuple[int, ...], depths: tuple[int, ...], stem: str,
                stem_width: int = 0):
    def body(x: Any, algo: Algorithm, deploy: bool) -> Any:
        import tensorflow as tf
        if stem == "imagenet":
            x = imagenet_stem(x, algo, stem_width or widths[0])
        else:
            x = algo.activation(conv_bn(x, stem_width or widths[0], 3, 1, "stem"), "stem_act")
        for stage, (width, depth) in enumerate(zip(widths, depths), start=1):
            for block in range(depth):
                strides = 2 if block == 0 and stage > 1 else 1
                x = basic_block(x, algo, width, strides, f"stage{stage}_block{block + 1}", deploy)
        return tf.keras.layers.GlobalAveragePooling2D(name="pool")(x)
    return body


def _register(name: str, description: str, size: int, widths, depths, stem: str,
              stem_width: int = 0, bibench: bool = False) -> None:
    """`bibench`: the Keras form is BiBench's ResNet_CIFAR (its checkpoints import)."""
    body = resnet_body(tuple(widths), tuple(depths), stem, stem_width)
    ARCHITECTURES.register(name, Architecture(name, description, size, body,
                                              tuple(depths) if bibench else None))


_register("resnet18", "ResNet-18, CIFAR stem (3x3 conv 64), 32x32", 32,
          (64, 128, 256, 512), (2, 2, 2, 2), "cifar", bibench=True)
_register("resnet34", "ResNet-34, CIFAR stem (3x3 conv 64), 32x32", 32,
          (64, 128, 256, 512), (3, 4, 6, 3), "cifar", bibench=True)
_register("resnet20", "ResNet-20 (He et al. CIFAR form: 16-channel stem), 32x32", 32,
          (16, 32, 64), (3, 3, 3), "cifar")
_register("resnet20_bibench", "ResNet-20 as BiBench builds it: 64-channel stem, 1x1 downsample "
          "in the first block, stages 16-32-64, 32x32", 32, (16, 32, 64), (3, 3, 3), "cifar",
          stem_width=64, bibench=True)
_register("resnet18_imagenet", "ResNet-18, ImageNet stem (7x7/2 conv + max pool, PyTorch padding), "
          "224x224", 224,
          (64, 128, 256, 512), (2, 2, 2, 2), "imagenet")
