"""Every registered algorithm: deploy form, serialisation, training, schedules."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import bibench_deploy  # noqa: F401
import tensorflow as tf

from bibench_deploy.algorithms import ALGORITHMS, schedules
from bibench_deploy.algorithms.xnor import XNOR
from bibench_deploy.deploy_graph.deploy import build_deploy_model, predict
from tests.algorithms.conftest import TINY, TINY_SIZE, images, perturb
from tests.conftest import ROOT

BIBENCH = ["bireal", "bnn", "dorefa", "fda", "reactnet", "recu", "xnor", "xnorpp"]


def test_the_eight_bibench_algorithms_are_registered():
    assert ALGORITHMS.names() == BIBENCH


def test_every_algorithm_states_its_operator_and_dabnn_support(algo):
    assert algo.title and algo.paper and algo.inference_operator
    assert algo.dabnn.supported or algo.dabnn.reason


def trained_like(algo, seed=0):
    tf.keras.utils.set_random_seed(seed)
    model = TINY.build(algo, 10)
    perturb(model, seed)
    return model


def test_deploy_form_equals_training_form_in_inference_mode(algo):
    model = trained_like(algo)
    deploy, dropped, _ = build_deploy_model(TINY, algo, model, 10)
    x = images()
    np.testing.assert_allclose(predict(deploy, x), predict(model, x), rtol=1e-5, atol=1e-5)
    assert dropped == []


def test_save_and_load_round_trip_gives_identical_outputs(algo, tmp_path):
    model = trained_like(algo)
    model.save(tmp_path / "m.keras")
    again = tf.keras.models.load_model(tmp_path / "m.keras")
    x = images()
    np.testing.assert_array_equal(predict(again, x), predict(model, x))
    assert len(again.weights) == len(model.weights)


@pytest.mark.long
def test_saved_models_reload_in_a_fresh_process_without_custom_objects(tmp_path):
    for name in BIBENCH:
        model = trained_like(ALGORITHMS.get(name))
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.npy", predict(model, images()))
    code = ("import sys, numpy as np, bibench_deploy, tensorflow as tf\n"
            "import bibench_deploy.algorithms.layers as l\n"
            "l.custom_objects()\n"
            f"from tests.algorithms.conftest import images\n"
            f"for name in {BIBENCH!r}:\n"
            f"    m = tf.keras.models.load_model(r'{tmp_path}/' + name + '.keras')\n"
            f"    assert np.array_equal(np.asarray(m(images(), training=False)),"
            f" np.load(r'{tmp_path}/' + name + '.npy')), name\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]


def toy_problem(n=128, seed=0):
    """Two classes: is the image's mean brightness above zero?"""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, TINY_SIZE, TINY_SIZE, 3)).astype("float32")
    x += rng.choice([-0.5, 0.5], size=(n, 1, 1, 1)).astype("float32")
    return x, (x.mean(axis=(1, 2, 3)) > 0).astype("int64")


@pytest.mark.trains
def test_a_few_training_steps_reduce_the_loss(algo):
    tf.keras.utils.set_random_seed(0)
    model = TINY.build(algo, 2)
    model.compile(tf.keras.optimizers.Adam(1e-2),
                  tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = toy_problem()
    before = model.evaluate(x, y, verbose=0)
    model.fit(x, y, batch_size=32, epochs=3, verbose=0, callbacks=algo.callbacks(3))
    assert model.evaluate(x, y, verbose=0) < 0.9 * before


def test_xnor_output_scale_is_the_input_scale_moved_through_the_conv():
    """With a 1x1 conv (no padding) both forms agree in values and in every gradient."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 4, 4, 8)).astype("float32"))
    results = []
    for algo in (XNOR(), XNOR(naive=True)):
        inputs = tf.keras.Input((4, 4, 8))
        model = tf.keras.Model(inputs, algo.binary_conv(inputs, 6, 1, 1, "conv"))
        model.get_layer("conv").kernel.assign(rng.normal(size=(1, 1, 8, 6)).astype("float32")
                                              if not results else results[0][3])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = model(x, training=True)
            loss = tf.reduce_sum(y * tf.range(1.0, 7.0))
        grads = tape.gradient(loss, [x, model.get_layer("conv").kernel])
        results.append((y.numpy(), grads[0].numpy(), grads[1].numpy(),
                        model.get_layer("conv").kernel.numpy()))
    for out, naive in zip(results[0][:3], results[1][:3]):
        np.testing.assert_allclose(out, naive, rtol=1e-5, atol=1e-6)


def test_schedule_values_at_first_middle_and_last_epoch():
    assert schedules.recu_tau(0, 10) == pytest.approx(0.85)
    assert schedules.recu_tau(5, 10) == pytest.approx(0.14 / (np.e - 1) * (np.exp(0.5) - 1) + 0.85)
    assert schedules.recu_tau(9, 10) == pytest.approx(0.14 / (np.e - 1) * (np.exp(0.9) - 1) + 0.85)
    assert schedules.recu_tau(10, 10) == pytest.approx(0.99)
    assert [schedules.fda_terms(e, 10) for e in (0, 5, 9)] == [9, 13, 17]
    assert schedules.fda_noise_weight(0, 10) == pytest.approx(0.05 * (1 + np.cos(np.pi / 10)))
    assert schedules.fda_noise_weight(4, 10) == pytest.approx(0.05)
    assert schedules.fda_noise_weight(9, 10) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("epoch", [0, 5, 9])
def test_schedule_callbacks_set_every_quantizer(epoch):
    from bibench_deploy.algorithms.fourier import FourierQuantizer
    from bibench_deploy.algorithms.quantizers import RecuKernelSign
    for name, cls, read in (
            ("recu", RecuKernelSign, lambda q: (q.tau.numpy(),)),
            ("fda", FourierQuantizer, lambda q: (q.fourier_n.numpy(), q.noise_weight.numpy()))):
        algo = ALGORITHMS.get(name)
        model = TINY.build(algo, 2)
        callback, = algo.callbacks(10)
        callback.set_model(model)
        callback.on_epoch_begin(epoch)
        found = list(schedules.quantizers(model, cls))
        assert len(found) == (2 if name == "recu" else 4)
        expected = ((schedules.recu_tau(epoch, 10),) if name == "recu" else
                    (schedules.fda_terms(epoch, 10), schedules.fda_noise_weight(epoch, 10)))
        for quantizer in found:
            np.testing.assert_allclose(read(quantizer), expected, rtol=1e-6, atol=1e-7)


@pytest.mark.trains
def test_fda_noise_modules_train_under_fit():
    """fit passes training=True down to the quantizers: the noise MLPs receive gradients."""
    algo = ALGORITHMS.get("fda")
    tf.keras.utils.set_random_seed(0)
    inputs = tf.keras.Input((4, 4, 64))
    model = tf.keras.Model(inputs, algo.binary_conv(inputs, 8, 3, 1, "conv"))
    fc = [w for w in model.trainable_weights if "fc" in w.name]
    assert len(fc) == 4   # fc1, fc2 of the activation and of the kernel noise modules
    before = [w.numpy().copy() for w in fc]
    model.compile("sgd", "mse")
    x = np.random.default_rng(0).normal(size=(4, 4, 4, 64)).astype("float32")
    model.fit(x, np.ones((4, 4, 4, 8), "float32"), epochs=1, verbose=0)
    assert all(not np.array_equal(b, w.numpy()) for b, w in zip(before, fc))
