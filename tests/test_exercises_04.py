"""The self-checks of notebook 04 (transfer learning) accept the right answer only."""

from __future__ import annotations

import pytest
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


def freeze_all_then_replace(model, num_classes):
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.classifier[1] = nn.Linear(1280, num_classes)
    return model


def requires_grad_and_a_new_sequential(model, num_classes):
    model.features.requires_grad_(False)
    model.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(model.last_channel, num_classes))
    return model


def last_layer_by_negative_index(model, num_classes):
    for name, parameter in model.named_parameters():
        if name.startswith("features"):
            parameter.requires_grad = False
    model.classifier[-1] = nn.Linear(model.classifier[-1].in_features, num_classes)
    return model


@pytest.mark.parametrize("answer", [prepare_model, freeze_all_then_replace, requires_grad_and_a_new_sequential,
                                    last_layer_by_negative_index], ids=lambda answer: answer.__name__)
def test_prepare_model_accepts_right_answers_in_any_form(answer, course_leaves, capsys):
    assert check_prepare_model(answer).passed
    assert capsys.readouterr().out.startswith("Correct!")


def freeze(model):
    for parameter in model.features.parameters():
        parameter.requires_grad = False


def no_freeze(model, num_classes):
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)
    return model


def eval_to_freeze(model, num_classes):
    model.features.eval()
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)
    return model


def comparison_instead_of_assignment(model, num_classes):
    for parameter in model.features.parameters():
        parameter.requires_grad == False       # noqa: E712 (the typo is the mistake)
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)
    return model


def freeze_last(model, num_classes):
    model.classifier[1] = nn.Linear(model.last_channel, num_classes)
    for parameter in model.parameters():
        parameter.requires_grad = False
    return model


def four_classes(model, num_classes):
    freeze(model)
    model.classifier[1] = nn.Linear(1280, 4)
    return model


def whole_classifier(model, num_classes):
    freeze(model)
    model.classifier = nn.Linear(1280, num_classes)
    return model


def no_return(model, num_classes):
    freeze(model)
    model.classifier[1] = nn.Linear(1280, num_classes)


def resnet_habit(model, num_classes):
    freeze(model)
    model.fc = nn.Linear(1280, num_classes)
    return model


def replaces_the_dropout(model, num_classes):
    freeze(model)
    model.classifier[0] = nn.Linear(1280, num_classes)
    return model


def swapped_arguments(model, num_classes):
    freeze(model)
    model.classifier[1] = nn.Linear(num_classes, 1280)
    return model


def imagenet_inputs(model, num_classes):
    freeze(model)
    model.classifier[1] = nn.Linear(1000, num_classes)
    return model


def adds_a_layer(model, num_classes):
    freeze(model)
    model.classifier.append(nn.Linear(1000, num_classes))
    return model


def returns_the_layer(model, num_classes):
    freeze(model)
    model.classifier[1] = nn.Linear(1280, num_classes)
    return model.classifier


WRONG = [
    (no_freeze, "model.features still require gradients"),
    (eval_to_freeze, "eval() does not freeze anything"),
    (comparison_instead_of_assignment, "model.features still require gradients"),
    (freeze_last, "the new classifier is frozen too"),
    (four_classes, "use the num_classes argument"),
    (whole_classifier, "and its Dropout with it"),
    (no_return, "return the model"),
    (resnet_habit, "MobileNetV2 has no .fc"),
    (replaces_the_dropout, "model.classifier[0], which is the Dropout"),
    (swapped_arguments, "the arguments are swapped"),
    (imagenet_inputs, "takes 1000 inputs"),
    (adds_a_layer, "do not add a layer after it"),
    (returns_the_layer, "the model lost its .features"),
]


@pytest.mark.parametrize("answer, hint", WRONG, ids=[answer.__name__ for answer, _ in WRONG])
def test_prepare_model_names_each_mistake(answer, hint, course_leaves, capsys):
    result = check_prepare_model(answer)
    assert result.status == "not yet" and hint in result.message, result.message
    assert capsys.readouterr().out == result.message + "\n"      # one verdict, no traceback


def test_prepare_model_stub_is_not_done(course_leaves):
    def stub(model, num_classes):
        raise NotImplementedError
    assert check_prepare_model(stub).status == "not done"
