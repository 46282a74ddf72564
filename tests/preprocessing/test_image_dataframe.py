"""ImageDataGenerator.flow_from_dataframe: which rows become images, their targets, subsets, bad arguments."""

import numpy as np
import pytest

pytest.importorskip("PIL")
pd = pytest.importorskip("pandas")
from PIL import Image  # noqa: E402

from kerosene.preprocessing.image import DataFrameIterator, ImageDataGenerator  # noqa: E402


@pytest.fixture
def folder(tmp_path):
    """Six 4x5 PNGs img0..img5 whose pixels all equal 10 * their number."""
    for i in range(6):
        Image.fromarray(np.full((4, 5, 3), 10 * i, dtype="uint8")).save(tmp_path / f"img{i}.png")
    (tmp_path / "notes.txt").write_text("not an image")
    return tmp_path


def frame(names, labels):
    return pd.DataFrame({"filename": names, "class": labels})


def test_rows_in_order_with_sorted_classes(folder):
    df = frame(["img3.png", "img0.png", "missing.png", "img5.png", "img3.png", "notes.txt"],
               ["dog", "cat", "cat", "bird", "dog", "cat"])
    it = ImageDataGenerator().flow_from_dataframe(df, str(folder), target_size=(4, 5), shuffle=False,
                                                  class_mode="sparse", batch_size=8)
    assert isinstance(it, DataFrameIterator)
    assert it.filenames == ["img3.png", "img0.png", "img5.png"]  # missing files, non-images, duplicates dropped
    assert it.class_indices == {"bird": 0, "cat": 1, "dog": 2}
    x, y = it[0]
    np.testing.assert_array_equal(y, [2, 1, 0])
    np.testing.assert_array_equal(x[:, 0, 0, 0], [30, 0, 50])


def test_given_classes_filter_rows_and_fix_indices(folder):
    df = frame([f"img{i}.png" for i in range(6)], ["a", "b", "c", "a", "b", "c"])
    it = ImageDataGenerator().flow_from_dataframe(df, str(folder), classes=["c", "a"], shuffle=False,
                                                  target_size=(4, 5))
    assert it.filenames == ["img0.png", "img2.png", "img3.png", "img5.png"]
    np.testing.assert_array_equal(it[0][1], [[0, 1], [1, 0], [0, 1], [1, 0]])


def test_names_without_extension_and_absolute_paths(folder):
    df = frame(["img1", "img4", "nothere"], [0, 1, 0])
    it = ImageDataGenerator().flow_from_dataframe(df, str(folder), has_ext=False, class_mode="binary",
                                                  shuffle=False, target_size=(4, 5))
    assert it.filenames == ["img1.png", "img4.png"]
    assert it[0][1].tolist() == [0.0, 1.0]
    absolute = pd.DataFrame({"filename": [str(folder / "img2.png")]})
    x, y = ImageDataGenerator().flow_from_dataframe(absolute, str(folder), class_mode="input", y_col=None,
                                                    target_size=(4, 5))[0]
    assert (x == 20).all() and np.array_equal(x, y) and x is not y


def test_other_class_mode_yields_numbers(folder):
    df = pd.DataFrame({"filename": [f"img{i}.png" for i in range(3)], "w": [1.5, 2.5, 3.5], "h": [1, 2, 3]})
    it = ImageDataGenerator().flow_from_dataframe(df, str(folder), y_col=["w", "h"], class_mode="other",
                                                  shuffle=False, target_size=(2, 2))
    np.testing.assert_array_equal(it[0][1], [[1.5, 1], [2.5, 2], [3.5, 3]])
    assert it.class_indices == {} and it.classes is None
    single = ImageDataGenerator().flow_from_dataframe(df, str(folder), y_col="w", class_mode="other",
                                                      shuffle=False, target_size=(2, 2))
    np.testing.assert_array_equal(single[0][1], [1.5, 2.5, 3.5])
    with pytest.raises(TypeError, match="numeric.*'w'"):
        ImageDataGenerator().flow_from_dataframe(df.astype({"w": str}), str(folder), y_col="w", class_mode="other")


def test_validation_split_takes_the_first_rows(folder):
    df = frame([f"img{i}.png" for i in range(6)], ["a", "b"] * 3)
    gen = ImageDataGenerator(validation_split=1 / 3)
    val = gen.flow_from_dataframe(df, str(folder), subset="validation", shuffle=False)
    train = gen.flow_from_dataframe(df, str(folder), subset="training", shuffle=False)
    assert val.filenames == ["img0.png", "img1.png"] and train.filenames == [f"img{i}.png" for i in range(2, 6)]


def test_bad_arguments(folder):
    df = frame(["img0.png"], ["a"])
    gen = ImageDataGenerator()
    cases = [
        (dict(x_col=3), ValueError, "x_col.*3"),
        (dict(has_ext="yes"), ValueError, "has_ext.*'yes'"),
        (dict(class_mode="output"), ValueError, "class_mode.*'output'"),
        (dict(color_mode="cmyk"), ValueError, "color_mode.*'cmyk'"),
        (dict(y_col="label"), ValueError, "no column 'label'"),
        (dict(class_mode="other", classes=["a"]), ValueError, "classes.*'other'"),
        (dict(y_col=["class", "filename"]), ValueError, "y_col.*must be a str"),
        (dict(subset="validation"), ValueError, "validation_split > 0"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            gen.flow_from_dataframe(df, str(folder), **kwargs)
    with pytest.raises(ValueError, match="has_ext=True but no filename"):
        gen.flow_from_dataframe(frame(["img0", "img1"], ["a", "b"]), str(folder))
