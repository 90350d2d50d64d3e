"""The self-checks of notebook 02 (data split): right answers pass, others do not."""

from __future__ import annotations

import shutil

import pytest
from sklearn.model_selection import train_test_split

from leafdl.course.exercises import check_split_and_copy, check_stratified_rare_class, check_validation_size


def test_validation_size_rounds_up(capsys):
    assert check_validation_size(201, n_images=1001, test_size=0.2).passed
    assert "Correct" in capsys.readouterr().out
    assert check_validation_size(200, n_images=1001, test_size=0.2).passed is False
    assert "Not yet" in capsys.readouterr().out
    assert check_validation_size(48, n_images=240, test_size=0.2).passed
    assert check_validation_size(None).status == "not done"
    assert "Not done yet" in capsys.readouterr().out


def test_stratified_rare_class():
    assert check_stratified_rare_class(2, common=90, rare=10, test_size=0.2).passed
    assert check_stratified_rare_class(0, common=90, rare=10, test_size=0.2).passed is False
    assert check_stratified_rare_class(10, common=60, rare=40, test_size=0.25).passed
    assert check_stratified_rare_class(None).passed is False


def split_and_copy(files, labels, out_dir):
    """The reference solution (notebooks/solutions/02_data_split.md)."""
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    for part, chosen in (("train", train), ("valid", valid)):
        for path in chosen:
            folder = out_dir / part / path.parent.name
            folder.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, folder / path.name)


def split_with(**options):
    """The same, with the split's options replaced (for the classic mistakes)."""
    def student(files, labels, out_dir):
        settings = {"test_size": 0.2, "random_state": 42, "stratify": labels, **options}
        train, valid = train_test_split(files, **settings)
        for part, chosen in (("train", train), ("valid", valid)):
            for path in chosen:
                folder = out_dir / part / path.parent.name
                folder.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, folder / path.name)
    return student


def test_split_and_copy_accepts_the_solution(course_leaves, capsys):
    result = check_split_and_copy(split_and_copy)
    assert result.passed
    assert "24 images copied to train/ and 6 to valid/" in capsys.readouterr().out


def four_lists_and_makedirs(files, labels, out_dir):
    """A right answer in another form: labels split with the files, os.makedirs, copy2."""
    import os
    files_train, files_valid, labels_train, labels_valid = train_test_split(
        files, labels, test_size=0.2, random_state=42, stratify=labels)
    for part, chosen, chosen_labels in (("train", files_train, labels_train), ("valid", files_valid, labels_valid)):
        for path, label in zip(chosen, chosen_labels):
            os.makedirs(out_dir / part / label, exist_ok=True)
            shutil.copy2(path, out_dir / part / label / path.name)


@pytest.mark.parametrize("answer", [split_and_copy, four_lists_and_makedirs], ids=lambda answer: answer.__name__)
def test_split_and_copy_accepts_right_answers_in_any_form(answer, course_leaves, capsys):
    assert check_split_and_copy(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


def copy_parts(parts, out_dir, folder=lambda out_dir, part, path, label: out_dir / part / label, copy=shutil.copy):
    """Copy each (part, files, labels) with a folder rule and a copy function of the caller's choice."""
    for part, chosen, chosen_labels in parts:
        for path, label in zip(chosen, chosen_labels):
            target = folder(out_dir, part, path, label)
            target.mkdir(parents=True, exist_ok=True)
            copy(path, target / path.name)


def moves(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    copy_parts((("train", train, [p.parent.name for p in train]), ("valid", valid, [p.parent.name for p in valid])),
               out_dir, copy=shutil.move)


def flat(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    copy_parts((("train", train, labels), ("valid", valid, labels)), out_dir,
               folder=lambda out_dir, part, path, label: out_dir / part)


def labels_before_the_split(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    copy_parts((("train", train, labels), ("valid", valid, labels)), out_dir)     # zip(train, labels): wrong pairs


def class_before_part(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    copy_parts((("train", train, [p.parent.name for p in train]), ("valid", valid, [p.parent.name for p in valid])),
               out_dir, folder=lambda out_dir, part, path, label: out_dir / label / part)


def swapped_parts(files, labels, out_dir):
    valid, train = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    copy_parts((("train", train, [p.parent.name for p in train]), ("valid", valid, [p.parent.name for p in valid])),
               out_dir)


def two_names_for_four_lists(files, labels, out_dir):
    train, valid = train_test_split(files, labels, test_size=0.2, random_state=42, stratify=labels)


def mkdir_without_exist_ok(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    for part, chosen in (("train", train), ("valid", valid)):
        for path in chosen:
            (out_dir / part / path.parent.name).mkdir(parents=True)
            shutil.copy(path, out_dir / part / path.parent.name / path.name)


def mkdir_without_parents(files, labels, out_dir):
    train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
    for part, chosen in (("train", train), ("valid", valid)):
        for path in chosen:
            (out_dir / part / path.parent.name).mkdir(exist_ok=True)
            shutil.copy(path, out_dir / part / path.parent.name / path.name)


def only_splits(files, labels, out_dir):
    return train_test_split(files, test_size=0.2, random_state=42, stratify=labels)


WRONG = [
    (split_with(stratify=None), "stratify=labels"),
    (split_with(random_state=0), "random_state=42"),
    (split_with(test_size=0.3), "test_size=0.2"),
    (split_with(train_size=0.2, test_size=None), "the validation share (not train_size)"),
    (moves, "shutil.copy"),
    (flat, "folder named after its class"),
    (labels_before_the_split, "landed in another class's folder"),
    (class_before_part, "put the part first"),
    (swapped_parts, "train/ and valid/ are swapped"),
    (two_names_for_four_lists, "returns four lists"),
    (mkdir_without_exist_ok, "mkdir(parents=True, exist_ok=True)"),
    (mkdir_without_parents, "parents included"),
    (only_splits, "it holds nothing: copy the files there"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=range(len(WRONG)))
def test_split_and_copy_names_each_mistake(answer, hint, course_leaves, capsys):
    result = check_split_and_copy(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_split_and_copy_stub_is_not_done(course_leaves):
    def stub(files, labels, out_dir):
        raise NotImplementedError
    assert check_split_and_copy(stub).status == "not done"
