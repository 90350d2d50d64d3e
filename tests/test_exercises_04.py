"""The self-checks of notebook 04 (transfer learning) accept the right answer only."""

from __future__ import annotations

from torch import nn

from leafdl.course.exercises import check_prepare_model, check_separable_conv_weights


def test_separable_conv_weights_accepts_the_count(capsys):
    # depthwise 3*3*16 = 144, pointwise 16*32 = 512
    assert check_separable_conv_weights(656).passed
    assert "Correct" in capsys.readouterr().out


def test_separable_conv_weights_rejects_the_standard_conv_count(capsys):
    assert check_separable_conv_weights(3 * 3 * 16 * 32).passed is False
    assert "Not yet" in capsys.readouterr().out


def test_separable_conv_weights_follows_its_arguments():
    assert check_separable_conv_weights(3 * 3 * 32 + 32 * 64, c_in=32, c_out=64).passed


def test_separable_conv_weights_unanswered(capsys):
    assert check_separable_conv_weights(None).status == "not done"
    assert "Not done yet" in capsys.readouterr().out


def prepare_model(model, num_classes):
    """The reference solution (notebooks/solutions/04_transfer_learning.md)."""
    for parameter in model.features.parameters():
        parameter.requires_grad = False
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)
    return model


def test_prepare_model_accepts_the_solution(course_leaves, capsys):
    assert check_prepare_model(prepare_model).passed
    assert "48,678 trainable parameters" in capsys.readouterr().out      # 1280 * 38 + 38


def test_prepare_model_accepts_freezing_everything_first(course_leaves):
    def freeze_all_then_replace(model, num_classes):
        for parameter in model.parameters():
            parameter.requires_grad = False
        model.classifier[1] = nn.Linear(1280, num_classes)
        return model
    assert check_prepare_model(freeze_all_then_replace).passed


def test_prepare_model_rejects_forgetting_to_freeze(course_leaves):
    def no_freeze(model, num_classes):
        model.classifier[1] = nn.Linear(model.last_channel, num_classes)
        return model
    result = check_prepare_model(no_freeze)
    assert not result.passed and "model.features still require gradients" in result.message


def test_prepare_model_rejects_freezing_after_replacing(course_leaves):
    def freeze_last(model, num_classes):
        model.classifier[1] = nn.Linear(model.last_channel, num_classes)
        for parameter in model.parameters():
            parameter.requires_grad = False
        return model
    assert "the new classifier is frozen too" in check_prepare_model(freeze_last).message


def test_prepare_model_rejects_a_fixed_class_count_a_lost_dropout_and_no_return(course_leaves):
    def four_classes(model, num_classes):
        return prepare_model(model, 4)
    assert "use the num_classes argument" in check_prepare_model(four_classes).message

    def whole_classifier(model, num_classes):
        prepare_model(model, num_classes)
        model.classifier = nn.Linear(1280, num_classes)
        return model
    assert "and its Dropout with it" in check_prepare_model(whole_classifier).message

    def no_return(model, num_classes):
        prepare_model(model, num_classes)
    assert "return the model" in check_prepare_model(no_return).message


def test_prepare_model_stub_is_not_done(course_leaves):
    def stub(model, num_classes):
        raise NotImplementedError
    assert check_prepare_model(stub).status == "not done"
