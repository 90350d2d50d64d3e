"""The self-checks of notebook 02 (data split): right answers pass, others do not."""

from __future__ import annotations

import shutil

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


def test_split_and_copy_rejects_a_split_without_stratify(course_leaves):
    result = check_split_and_copy(split_with(stratify=None))
    assert not result.passed and "stratify=labels" in result.message


def test_split_and_copy_rejects_another_seed_and_size(course_leaves):
    assert "random_state=42" in check_split_and_copy(split_with(random_state=0)).message
    assert "test_size=0.2" in check_split_and_copy(split_with(test_size=0.3)).message


def test_split_and_copy_rejects_moving_and_one_folder_for_all(course_leaves):
    def moves(files, labels, out_dir):
        train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
        for part, chosen in (("train", train), ("valid", valid)):
            for path in chosen:
                (out_dir / part / path.parent.name).mkdir(parents=True, exist_ok=True)
                shutil.move(path, out_dir / part / path.parent.name / path.name)
    assert "shutil.copy" in check_split_and_copy(moves).message

    def flat(files, labels, out_dir):
        train, valid = train_test_split(files, test_size=0.2, random_state=42, stratify=labels)
        for part, chosen in (("train", train), ("valid", valid)):
            (out_dir / part).mkdir(exist_ok=True)
            for path in chosen:
                shutil.copy(path, out_dir / part / path.name)
    assert "folder named after its class" in check_split_and_copy(flat).message


def test_split_and_copy_stub_is_not_done(course_leaves):
    def stub(files, labels, out_dir):
        raise NotImplementedError
    assert check_split_and_copy(stub).status == "not done"
