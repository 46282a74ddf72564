"""keras.preprocessing.image: transforms against numpy references and Keras 3's legacy
ImageDataGenerator, the iterators' batching, shuffling and seeds, featurewise statistics,
flow_from_directory over real PNG files, validation_split subsets, fit_generator end to
end, and the errors for bad arguments."""
import os
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("PIL")
pytest.importorskip("scipy")
from PIL import Image  # noqa: E402

import kerosene  # noqa: E402
from kerosene.preprocessing import image  # noqa: E402
from kerosene.preprocessing.image import (DirectoryIterator, ImageDataGenerator, Iterator,  # noqa: E402
                                          NumpyArrayIterator)

RNG = np.random.RandomState(0)


@pytest.fixture
def legacy():
    """Keras 3's legacy image module: its ``get_random_transform`` draws as Keras 2's does.

    (Its geometric transforms are not Keras 2's: Keras 3 moved the centre of rotation and
    swapped the roles of ``tx`` and ``ty``.)
    """
    return pytest.importorskip("keras.src.legacy.preprocessing.image")


def bilinear_reference(plane, theta, tx, ty, shear, zx, zy):
    """Keras 2's affine map written out in numpy: out[i, j] samples plane at M @ (i, j) by bilinear
    interpolation, clamping to the edge ('nearest'); M is rotation . shift . shear . zoom about
    (h / 2 + 0.5, w / 2 + 0.5)."""
    h, w = plane.shape
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    m = (np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.array([[1, -np.sin(s)], [0, np.cos(s)]])
         @ np.diag([zx, zy]))
    shift = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ [tx, ty]
    centre = np.array([h / 2 + 0.5, w / 2 + 0.5])
    out = np.empty_like(plane)
    for i in range(h):
        for j in range(w):
            r, c = m @ (np.array([i, j]) - centre) + shift + centre
            r, c = np.clip(r, 0, h - 1), np.clip(c, 0, w - 1)
            r0, c0 = min(int(np.floor(r)), h - 2), min(int(np.floor(c)), w - 2)
            fr, fc = r - r0, c - c0
            out[i, j] = ((1 - fr) * (1 - fc) * plane[r0, c0] + (1 - fr) * fc * plane[r0, c0 + 1]
                         + fr * (1 - fc) * plane[r0 + 1, c0] + fr * fc * plane[r0 + 1, c0 + 1])
    return out


# --- transforms ----------------------------------------------------------------------------
def test_rotation_by_90_is_keras2s_off_centre_quarter_turn():
    # With the centre at n/2 + 0.5, a quarter turn reads out[i, j] = x[n + 1 - j, i].
    n = 5
    x = RNG.rand(n, n, 2)
    expected = np.zeros_like(x)
    for i in range(n):
        for j in range(n):
            if 0 <= n + 1 - j < n:
                expected[i, j] = x[n + 1 - j, i]
    out = image.apply_affine_transform(x, theta=90, fill_mode="constant", cval=0.)
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect"])
def test_integer_shift_against_numpy(fill_mode):
    x = RNG.rand(6, 7, 3)
    out = image.apply_affine_transform(x, tx=2, ty=-1, fill_mode=fill_mode, cval=-5.)
    rows = np.arange(6) + 2     # tx moves along rows: out[i] reads x[i + tx]
    cols = np.arange(7) - 1
    if fill_mode == "constant":
        expected = np.full_like(x, -5.)
        ok_r, ok_c = rows < 6, cols >= 0
        expected[np.ix_(ok_r, ok_c)] = x[np.ix_(rows[ok_r], cols[ok_c])]
    elif fill_mode == "nearest":
        expected = x[np.ix_(np.clip(rows, 0, 5), np.clip(cols, 0, 6))]
    else:  # abcd|dcba
        mirror = lambda i, n: np.where(i >= n, 2 * n - 1 - i, np.where(i < 0, -i - 1, i))  # noqa: E731
        expected = x[np.ix_(mirror(rows, 6), mirror(cols, 7))]
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("params", [dict(theta=33), dict(shear=20), dict(zx=0.7, zy=1.3), dict(tx=1.5, ty=-2.25),
                                    dict(theta=-20, tx=1, ty=2, shear=10, zx=1.2, zy=0.9)])
@pytest.mark.parametrize("channel_axis", [0, 2])
def test_affine_transform_against_a_numpy_reference(params, channel_axis):
    x = RNG.rand(2, 9, 11) if channel_axis == 0 else RNG.rand(9, 11, 2)
    row, col = (1, 2) if channel_axis == 0 else (0, 1)
    out = image.apply_affine_transform(x, row_axis=row, col_axis=col, channel_axis=channel_axis,
                                       fill_mode="nearest", **params)
    full = {**dict(theta=0, tx=0, ty=0, shear=0, zx=1, zy=1), **params}
    for ch in range(2):
        plane = x[ch] if channel_axis == 0 else x[..., ch]
        got = out[ch] if channel_axis == 0 else out[..., ch]
        np.testing.assert_allclose(got, bilinear_reference(plane, **full), atol=1e-9)


def test_identity_transform_returns_the_image():
    x = RNG.rand(4, 4, 3)
    assert image.apply_affine_transform(x) is x


def test_flip_channel_shift_and_brightness():
    x = RNG.rand(5, 6, 3)
    np.testing.assert_array_equal(image.flip_axis(x, 1), x[:, ::-1])
    np.testing.assert_allclose(image.apply_channel_shift(x, 0.3, channel_axis=2), np.clip(x + 0.3, x.min(), x.max()))
    pixels = np.array([[[0, 100, 255], [10, 20, 30]]], dtype="float32")
    # PIL's brightness scales the 8-bit values (the image already spans 0..255, so no rescale).
    np.testing.assert_allclose(image.apply_brightness_shift(pixels, 0.5), np.round(pixels * 0.5), atol=1)
    np.testing.assert_allclose(image.apply_brightness_shift(pixels, 1.0), pixels)


def test_random_transforms_are_seeded_by_numpy_and_keep_shape():
    x = RNG.rand(2, 28, 28)
    for fn, arg in [(image.random_rotation, 45), (image.random_shear, 20), (image.random_zoom, (0.5, 1.5)),
                    (image.random_channel_shift, 0.2)]:
        np.random.seed(3)
        first = fn(x, arg)
        np.random.seed(3)
        np.testing.assert_array_equal(fn(x, arg), first)
        assert first.shape == x.shape and not np.allclose(first, x)
    np.random.seed(3)
    assert image.random_shift(x, 0.2, 0.2).shape == x.shape


# --- ImageDataGenerator's random transforms --------------------------------------------------
AUGMENT = dict(rotation_range=30, width_shift_range=0.2, height_shift_range=3, shear_range=10, zoom_range=0.2,
               channel_shift_range=0.1, horizontal_flip=True, vertical_flip=True, fill_mode="reflect")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_random_parameters_with_a_seed_match_keras(legacy, data_format):
    x = RNG.rand(10, 12, 3) if data_format == "channels_last" else RNG.rand(3, 10, 12)
    ours, theirs = ImageDataGenerator(data_format=data_format, **AUGMENT), legacy.ImageDataGenerator(
        data_format=data_format, **AUGMENT)
    for seed in (1, 2, 77):
        mine, ref = ours.get_random_transform(x.shape, seed), theirs.get_random_transform(x.shape, seed)
        assert mine.keys() == ref.keys()
        for key in mine:
            assert mine[key] == pytest.approx(ref[key]), key


def test_shift_range_forms():
    shape = (8, 10, 1)
    draws = lambda gen, key: {gen.get_random_transform(shape, s)[key] for s in range(200)}  # noqa: E731
    assert draws(ImageDataGenerator(width_shift_range=2), "ty") == {-1, 0, 1}
    assert draws(ImageDataGenerator(height_shift_range=[-3, 3]), "tx") == {-3, 3}
    fractions = draws(ImageDataGenerator(width_shift_range=0.25), "ty")
    assert max(abs(v) for v in fractions) <= 0.25 * 10 and len(fractions) > 100
    pixels = draws(ImageDataGenerator(height_shift_range=3.0), "tx")
    assert max(abs(v) for v in pixels) <= 3 and max(abs(v) for v in pixels) > 2


def test_no_augmentation_gives_identity_parameters():
    params = ImageDataGenerator().get_random_transform((4, 4, 3), seed=1)
    assert params == {"theta": 0, "tx": 0, "ty": 0, "shear": 0, "zx": 1, "zy": 1, "flip_horizontal": False,
                      "flip_vertical": False, "channel_shift_intensity": None, "brightness": None}


def test_apply_transform_brightness_in_channels_first():
    x = RNG.rand(3, 4, 5) * 255
    x[0, 0, 0], x[1, 0, 0] = 0, 255
    gen = ImageDataGenerator(data_format="channels_first")
    out = gen.apply_transform(x, {"brightness": 1.0})
    np.testing.assert_allclose(out, np.floor(x), atol=1)


# --- normalization -------------------------------------------------------------------------
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_featurewise_statistics(data_format):
    x = RNG.rand(20, 6, 5, 3) * [1, 10, 100] + [0, 5, -5]
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2)
    gen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True, data_format=data_format)
    gen.fit(x)
    axes = (0, 1, 2) if data_format == "channels_last" else (0, 2, 3)
    shape = (1, 1, 3) if data_format == "channels_last" else (3, 1, 1)
    np.testing.assert_allclose(gen.mean, x.mean(axis=axes).reshape(shape), rtol=1e-5)
    np.testing.assert_allclose(gen.std, x.std(axis=axes).reshape(shape), rtol=1e-4)
    out = gen.standardize(x.astype("float32"))
    np.testing.assert_allclose(out.mean(axis=axes), 0, atol=1e-4)
    np.testing.assert_allclose(out.std(axis=axes), 1, atol=1e-4)


def test_zca_whitening_decorrelates():
    base = RNG.rand(200, 1)
    x = np.concatenate([base + 0.1 * RNG.rand(200, 1) for _ in range(8)], axis=1).reshape(200, 2, 4, 1)
    with pytest.warns(UserWarning, match="overrides setting of `featurewise_center`"):
        gen = ImageDataGenerator(zca_whitening=True, zca_epsilon=1e-9)
    assert gen.featurewise_center
    gen.fit(x)
    flat = gen.standardize(x.astype("float32")).reshape(200, -1)
    np.testing.assert_allclose(flat.T @ flat / 200, np.eye(8), atol=1e-3)
    # The whitening matrix is symmetric (ZCA, not PCA): it keeps the data closest to the original.
    np.testing.assert_allclose(gen.principal_components, gen.principal_components.T, atol=1e-4)


def test_standardize_order_samplewise_and_no_mutation():
    x = (RNG.rand(4, 3, 3, 2) * 255).astype("uint8")
    seen = []
    gen = ImageDataGenerator(rescale=1 / 255., samplewise_center=True, samplewise_std_normalization=True,
                             preprocessing_function=lambda a: seen.append(a.max()) or a)
    before = x.copy()
    out = gen.standardize(x)
    assert seen == [x.max()]  # the preprocessing function sees the images before rescale
    np.testing.assert_array_equal(x, before)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.mean(axis=(1, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2, 3)), 1, atol=1e-4)
    single = gen.standardize(x[0])
    np.testing.assert_allclose(single, out[0], atol=1e-5)


def test_standardize_before_fit_warns():
    with pytest.warns(UserWarning, match="hasn't been fit"):
        ImageDataGenerator(featurewise_center=True).standardize(np.ones((2, 2, 1)))


def test_fit_with_augment_uses_the_augmented_copies():
    x = RNG.rand(6, 4, 4, 1)
    gen = ImageDataGenerator(featurewise_center=True, channel_shift_range=0.5)
    gen.fit(x, augment=True, rounds=3, seed=5)
    np.random.seed(5)
    copies = [gen.random_transform(img) for _ in range(3) for img in x.astype("float32")]
    np.testing.assert_allclose(gen.mean.ravel(), [np.mean(copies)], rtol=1e-5)
    assert not np.isclose(gen.mean.ravel()[0], x.mean())


# --- NumpyArrayIterator --------------------------------------------------------------------
def test_flow_batches_in_order_with_labels_weights_and_extras():
    x, y, w = RNG.rand(10, 4, 4, 3), np.arange(10), np.arange(10) + 0.5
    extra = RNG.rand(10, 2)
    it = ImageDataGenerator().flow((x, extra), y, batch_size=4, shuffle=False, sample_weight=w)
    assert isinstance(it, kerosene.utils.Sequence) and isinstance(it, Iterator) and len(it) == 3
    inputs, labels, weights = it[2]
    np.testing.assert_allclose(inputs[0], x[8:], rtol=1e-6)
    np.testing.assert_array_equal(inputs[1], extra[8:])
    np.testing.assert_array_equal(labels, [8, 9])
    np.testing.assert_array_equal(weights, [8.5, 9.5])
    only_x = ImageDataGenerator().flow(x, batch_size=4, shuffle=False)[0]
    assert isinstance(only_x, np.ndarray) and only_x.shape == (4, 4, 4, 3)


def test_next_loops_over_epochs_and_iter_is_endless():
    it = ImageDataGenerator().flow(RNG.rand(10, 2, 2, 1), np.arange(10), batch_size=4, shuffle=False)
    sizes = [len(next(it)[1]) for _ in range(7)]
    assert sizes == [4, 4, 2, 4, 4, 2, 4]
    assert iter(it) is it


def test_shuffle_and_seed_determinism():
    x, y = RNG.rand(12, 3, 3, 1), np.arange(12)
    gen = ImageDataGenerator(rotation_range=40)
    a = gen.flow(x, y, batch_size=5, seed=7)
    b = gen.flow(x, y, batch_size=5, seed=7)
    for i in range(len(a)):
        (xa, ya), (xb, yb) = a[i], b[i]
        np.testing.assert_array_equal(ya, yb)
        np.testing.assert_array_equal(xa, xb)
    first_epoch = np.concatenate([a[i][1] for i in range(len(a))])
    assert sorted(first_epoch) == list(range(12)) and list(first_epoch) != list(range(12))
    a.on_epoch_end()
    assert list(np.concatenate([a[i][1] for i in range(len(a))])) != list(first_epoch)
    other = gen.flow(x, y, batch_size=5, seed=8)
    assert not np.array_equal(other[0][1], b[0][1]) or not np.allclose(other[0][0], b[0][0])


def test_state_dict_round_trip():
    it = ImageDataGenerator().flow(RNG.rand(9, 2, 2, 1), np.arange(9), batch_size=2, shuffle=True, seed=1)
    it[0]
    state = it.state_dict()
    again = ImageDataGenerator().flow(RNG.rand(9, 2, 2, 1), np.arange(9), batch_size=2, shuffle=True, seed=1)
    again.load_state_dict(state)
    np.testing.assert_array_equal(again.index_array, it.index_array)
    np.testing.assert_array_equal(again[3][1], it[3][1])


def test_save_to_dir_writes_the_augmented_images(tmp_path):
    it = ImageDataGenerator().flow(RNG.rand(3, 5, 5, 3), np.arange(3), batch_size=3, save_to_dir=str(tmp_path),
                                   save_prefix="aug", save_format="png")
    it[0]
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3 and all(n.startswith("aug_") and n.endswith(".png") for n in names)
    assert Image.open(tmp_path / names[0]).size == (5, 5)


def test_flow_validation_split_subsets():
    x, y = RNG.rand(10, 2, 2, 1), np.array([0, 1] * 5)
    gen = ImageDataGenerator(validation_split=0.3)
    val = gen.flow(x, y, batch_size=10, shuffle=False, subset="validation")
    train = gen.flow(x, y, batch_size=10, shuffle=False, subset="training")
    np.testing.assert_allclose(val[0][0], x[:3], rtol=1e-6)
    np.testing.assert_allclose(train[0][0], x[3:], rtol=1e-6)
    with pytest.raises(ValueError, match="different number of classes"):
        gen.flow(x, np.sort(y), subset="validation")


# --- files ---------------------------------------------------------------------------------
def test_img_round_trips(tmp_path):
    pixels = (RNG.rand(6, 8, 3) * 255).astype("uint8")
    image.save_img(str(tmp_path / "a.png"), pixels, scale=False)
    loaded = image.load_img(str(tmp_path / "a.png"))
    assert loaded.size == (8, 6) and loaded.mode == "RGB"
    np.testing.assert_array_equal(image.img_to_array(loaded), pixels)
    assert image.img_to_array(loaded, data_format="channels_first").shape == (3, 6, 8)
    gray = image.load_img(str(tmp_path / "a.png"), color_mode="grayscale", target_size=(3, 4),
                          interpolation="bilinear")
    assert image.img_to_array(gray).shape == (3, 4, 1)
    scaled = image.img_to_array(image.array_to_img(np.array([[[-1.], [0.], [1.]]])))
    np.testing.assert_array_equal(scaled.ravel(), [0, 127, 255])
    with pytest.warns(UserWarning, match="alpha"):
        image.save_img(str(tmp_path / "b.jpg"), np.ones((4, 4, 4)), file_format="jpeg")


def write_tree(root, counts, size=(12, 10)):
    """PNG files under root/<class>/ (some in nested folders); returns {relative path: pixels}."""
    written = {}
    for c, (name, count) in enumerate(counts.items()):
        for i in range(count):
            folder = os.path.join(name, "deep") if i % 3 == 2 else name
            os.makedirs(root / folder, exist_ok=True)
            pixels = np.full(size + (3,), 20 * c + i, dtype="uint8")
            pixels[0, 0] = [255, 0, 128]
            rel = os.path.join(folder, f"img{i}.png")
            Image.fromarray(pixels).save(root / rel)
            written[rel] = pixels
    (root / counts.__iter__().__next__() / "notes.txt").write_text("not an image")
    return written


def test_flow_from_directory_reads_classes_and_pixels(tmp_path):
    written = write_tree(tmp_path, {"cats": 4, "dogs": 3})
    it = ImageDataGenerator().flow_from_directory(str(tmp_path), target_size=(12, 10), batch_size=7,
                                                  shuffle=False, class_mode="sparse")
    assert it.class_indices == {"cats": 0, "dogs": 1} and it.samples == 7 and it.num_classes == 2
    assert sorted(it.filenames) == sorted(written) and list(it.classes) == [0] * 4 + [1] * 3
    x, y = it[0]
    assert x.shape == (7, 12, 10, 3) and x.dtype == np.float32
    for k, name in enumerate(it.filenames):
        np.testing.assert_array_equal(x[k], written[name])
    np.testing.assert_array_equal(y, it.classes)
    assert it.filepaths[0] == os.path.join(str(tmp_path), it.filenames[0])


@pytest.mark.parametrize("class_mode,check", [
    ("categorical", lambda x, y: y.shape == (7, 2) and (y.sum(axis=1) == 1).all()),
    ("binary", lambda x, y: y.dtype == np.float32 and set(y) == {0., 1.}),
    ("input", lambda x, y: np.array_equal(x, y) and x is not y),
])
def test_flow_from_directory_class_modes(tmp_path, class_mode, check):
    write_tree(tmp_path, {"a": 4, "b": 3})
    x, y = ImageDataGenerator().flow_from_directory(str(tmp_path), target_size=(6, 5), batch_size=7,
                                                    class_mode=class_mode)[0]
    assert check(x, y)


def test_flow_from_directory_options(tmp_path):
    write_tree(tmp_path, {"a": 2, "b": 2, "c": 2})
    gen = ImageDataGenerator(data_format="channels_first")
    only_x = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), color_mode="rgba", class_mode=None,
                                     classes=["c", "a"], batch_size=8)[0]
    assert only_x.shape == (4, 4, 4, 4)
    it = gen.flow_from_directory(str(tmp_path), classes=["c", "a"], color_mode="grayscale", target_size=(4, 4))
    assert it.class_indices == {"c": 0, "a": 1} and it.image_shape == (1, 4, 4)


def test_flow_from_directory_validation_split_partitions_each_class(tmp_path):
    write_tree(tmp_path, {"a": 8, "b": 4})
    gen = ImageDataGenerator(validation_split=0.25)
    train = gen.flow_from_directory(str(tmp_path), subset="training")
    val = gen.flow_from_directory(str(tmp_path), subset="validation")
    assert (train.samples, val.samples) == (9, 3)
    assert not set(train.filenames) & set(val.filenames)
    assert list(val.classes) == [0, 0, 1]


def test_directory_iterator_is_a_sequence_with_preprocessing(tmp_path):
    write_tree(tmp_path, {"a": 5})
    gen = ImageDataGenerator(preprocessing_function=lambda img: np.zeros_like(img) + img.shape[0])
    it = DirectoryIterator(str(tmp_path), gen, target_size=(7, 7), batch_size=2)
    assert len(it) == 3 and it[2][0].shape == (1, 7, 7, 3) and (it[0][0] == 7).all()
    with pytest.raises(ValueError, match="batch 3 of a Sequence of 3"):
        it[3]


# --- training ------------------------------------------------------------------------------
def bright_half_data(n, seed):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, 8, 8, 1).astype("float32") * 0.5
    y = rng.randint(0, 2, n)
    x[y == 1, :4] += 0.5  # class 1: the top half is brighter (horizontal flips keep it)
    return x, kerosene.utils.to_categorical(y, 2)


def small_model():
    from kerosene.layers import Conv2D, Dense, Flatten
    model = kerosene.models.Sequential([Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), Flatten(),
                                        Dense(2, activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


def test_fit_generator_over_flow_learns():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    x, y = bright_half_data(96, 0)
    datagen = ImageDataGenerator(horizontal_flip=True, width_shift_range=1, featurewise_center=True)
    datagen.fit(x)
    model = small_model()
    history = model.fit_generator(datagen.flow(x, y, batch_size=16, seed=0), steps_per_epoch=len(x) // 16,
                                  epochs=15, verbose=0, validation_data=datagen.flow(x, y, batch_size=32),
                                  validation_steps=3)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.8


def test_fit_over_flow_from_directory(tmp_path):
    x, y = bright_half_data(12, 1)
    for i, (img, label) in enumerate(zip(x, y.argmax(1))):
        os.makedirs(tmp_path / str(label), exist_ok=True)
        image.save_img(str(tmp_path / str(label) / f"{i}.png"), img, scale=False)
    it = ImageDataGenerator(rescale=1 / 255.).flow_from_directory(str(tmp_path), target_size=(8, 8),
                                                                  color_mode="grayscale", batch_size=4)
    history = small_model().fit_generator(it, steps_per_epoch=len(it), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


# --- bad arguments -------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs,match", [
    (dict(data_format="channels_middle"), "data_format.*channels_middle"),
    (dict(zoom_range=(0.5, 1, 2)), "zoom_range.*0.5, 1, 2"),
    (dict(zoom_range="big"), "zoom_range.*'big'"),
    (dict(fill_mode="mirror"), "fill_mode.*'mirror'"),
    (dict(validation_split=1.0), r"validation_split.*\[0, 1\).*1.0"),
    (dict(validation_split=-0.1), "validation_split.*-0.1"),
    (dict(validation_split=5), "validation_split.*5"),
    (dict(rotation_range=-3), "rotation_range.*-3"),
    (dict(width_shift_range="wide"), "width_shift_range.*'wide'"),
    (dict(height_shift_range=[]), r"height_shift_range.*\[\]"),
    (dict(brightness_range=(0.5,)), r"brightness_range.*\(0.5,\)"),
    (dict(rescale="1/255"), "rescale.*'1/255'"),
    (dict(preprocessing_function=3), "preprocessing_function.*3"),
])
def test_generator_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageDataGenerator(**kwargs)


def test_iterator_bad_arguments(tmp_path):
    write_tree(tmp_path, {"a": 1})
    gen, x = ImageDataGenerator(), RNG.rand(4, 2, 2, 1)
    cases = [
        (lambda: gen.flow(np.arange(4)), "rank 4.*(4,)"),
        (lambda: gen.flow(x, np.arange(5)), "same length"),
        (lambda: gen.flow((x, RNG.rand(5))), "All of the arrays"),
        (lambda: gen.flow(x, batch_size=0), "batch_size.*0"),
        (lambda: gen.flow(x, subset="foo"), "subset.*'foo'"),
        (lambda: gen.flow(x, np.arange(4), subset="training"), "validation_split > 0"),
        (lambda: gen.flow_from_directory(str(tmp_path), class_mode="output"), "class_mode.*'output'"),
        (lambda: gen.flow_from_directory(str(tmp_path), color_mode="cmyk"), "color_mode.*'cmyk'"),
        (lambda: gen.flow_from_directory(str(tmp_path), interpolation="cubic"), "interpolation.*'cubic'"),
        (lambda: gen.flow_from_directory(str(tmp_path), target_size=(0, 4)), r"target_size.*\(0, 4\)"),
        (lambda: gen.flow_from_directory(str(tmp_path / "missing")), "directory.*missing"),
        (lambda: gen.fit(RNG.rand(3, 4, 4)), "rank 4"),
        (lambda: gen.fit(x, rounds=0), "rounds.*0"),
        (lambda: gen.apply_transform(x, {}), "rank 3"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()


def test_function_bad_arguments(tmp_path):
    cases = [
        (lambda: image.array_to_img(np.ones((3, 4))), "rank 3"),
        (lambda: image.array_to_img(np.ones((3, 4, 5))), "1 .*3 .*4 .*got 5"),
        (lambda: image.array_to_img(np.ones((3, 4, 3)), data_format="channels"), "data_format.*'channels'"),
        (lambda: image.img_to_array(np.ones((3, 4, 5, 3))), "rank 2 or 3"),
        (lambda: image.apply_affine_transform(np.ones((3, 3, 1)), theta=5, fill_mode="edge"), "fill_mode.*'edge'"),
        (lambda: image.apply_affine_transform(np.ones((3, 3, 1)), row_axis=0, col_axis=0), "axes"),
        (lambda: image.random_zoom(np.ones((1, 3, 3)), 0.5), "zoom_range.*0.5"),
        (lambda: image.load_img(str(tmp_path / "x.png"), color_mode="bgr"), "color_mode.*'bgr'"),
        (lambda: image.load_img(str(tmp_path / "x.png"), target_size=64), "target_size.*64"),
    ]
    for call, match in cases:
        with pytest.raises(ValueError, match=match):
            call()
    image.save_img(str(tmp_path / "x.png"), np.ones((4, 4, 3)))
    image.load_img(str(tmp_path / "x.png"), interpolation="unknown")  # as in Keras 2: checked only when resizing
    with pytest.raises(ValueError, match="interpolation.*'unknown'"):
        image.load_img(str(tmp_path / "x.png"), target_size=(2, 2), interpolation="unknown")


def test_pillow_and_scipy_are_optional():
    code = ("import sys; sys.modules['PIL'] = None; sys.modules['scipy'] = None\n"
            "from kerosene.preprocessing.image import ImageDataGenerator, load_img, apply_affine_transform\n"
            "import numpy as np\n"
            "gen = ImageDataGenerator(horizontal_flip=True)\n"
            "assert gen.flow(np.ones((2, 3, 3, 1)), batch_size=2)[0].shape == (2, 3, 3, 1)\n"
            "for call in (lambda: load_img('a.png'), lambda: apply_affine_transform(np.ones((3, 3, 1)), theta=3)):\n"
            "    try:\n"
            "        call()\n"
            "    except ImportError as e:\n"
            "        print(e)\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2
    assert "load_img needs Pillow" in lines[0] and "pip install kerosene[image]" in lines[0]
    assert "apply_affine_transform needs SciPy" in lines[1] and "pip install kerosene[image]" in lines[1]


def test_iterator_docstring_example():
    class Squares(Iterator):
        def _get_batches_of_transformed_samples(self, index_array):
            return index_array ** 2

    np.testing.assert_array_equal(Squares(10, batch_size=4, shuffle=False, seed=None)[2], [64, 81])
    with pytest.raises(NotImplementedError, match="_get_batches_of_transformed_samples"):
        Iterator(3, 2, False, None)[0]


def test_keras2_import_paths():
    assert kerosene.preprocessing.image is image
    for name in ["ImageDataGenerator", "Iterator", "NumpyArrayIterator", "DirectoryIterator", "array_to_img",
                 "img_to_array", "save_img", "load_img", "random_rotation", "random_shift", "random_shear",
                 "random_zoom", "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
                 "random_brightness", "apply_affine_transform", "flip_axis"]:
        assert callable(getattr(image, name)), name
    assert NumpyArrayIterator.__mro__[1] is Iterator


def test_images_and_masks_with_one_seed_get_the_same_transforms():
    # Keras 2's recipe: two generators made alike, flowed with the same seed and zipped.
    x = RNG.rand(6, 8, 8, 1)
    args = dict(rotation_range=90, width_shift_range=0.2, zoom_range=0.3, horizontal_flip=True)
    pairs = zip(ImageDataGenerator(**args).flow(x, batch_size=4, shuffle=False, seed=3),
                ImageDataGenerator(**args).flow(x * 2, batch_size=4, shuffle=False, seed=3))
    for _ in range(3):
        images, masks = next(pairs)
        np.testing.assert_allclose(masks, 2 * images, rtol=1e-5, atol=1e-6)
    assert images.shape == (4, 8, 8, 1) and not np.allclose(images, x[:4])  # the third batch: epoch 2's first


def test_keras2_manual_loop_over_flow():
    x, y = bright_half_data(20, 2)
    model, batches = small_model(), 0
    for x_batch, y_batch in ImageDataGenerator(vertical_flip=True).flow(x, y, batch_size=8):
        model.train_on_batch(x_batch, y_batch)
        batches += 1
        if batches >= len(x) / 8:
            break
    assert batches == 3
