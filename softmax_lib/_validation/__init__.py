"""Input checks and error messages for `softmax_lib`, and the one way input is prepared.

Every error message of the package is written here, in one form:
``"`<param>` must <requirement>; got <actual>."``, and every array argument enters through
:func:`prepare` (or :func:`as_real_float_array` for arrays without an axis). No mathematics
lives in this module.

The checks live in three modules, re-exported here: ``arrays``, ``values`` and ``targets``.
"""

from softmax_lib._validation.arrays import (
    WIDENED as WIDENED,
)
from softmax_lib._validation.arrays import (
    Axis as Axis,
)
from softmax_lib._validation.arrays import (
    Prepared as Prepared,
)
from softmax_lib._validation.arrays import (
    as_real_float_array as as_real_float_array,
)
from softmax_lib._validation.arrays import (
    as_rectangular_array as as_rectangular_array,
)
from softmax_lib._validation.arrays import (
    check_at_least_1d as check_at_least_1d,
)
from softmax_lib._validation.arrays import (
    check_classes as check_classes,
)
from softmax_lib._validation.arrays import (
    check_entries as check_entries,
)
from softmax_lib._validation.arrays import (
    check_error_operands as check_error_operands,
)
from softmax_lib._validation.arrays import (
    check_features as check_features,
)
from softmax_lib._validation.arrays import (
    check_finite as check_finite,
)
from softmax_lib._validation.arrays import (
    check_fitted_weights as check_fitted_weights,
)
from softmax_lib._validation.arrays import (
    check_matrix as check_matrix,
)
from softmax_lib._validation.arrays import (
    check_not_empty as check_not_empty,
)
from softmax_lib._validation.arrays import (
    check_parameter_layout as check_parameter_layout,
)
from softmax_lib._validation.arrays import (
    check_probabilities as check_probabilities,
)
from softmax_lib._validation.arrays import (
    check_same_shape as check_same_shape,
)
from softmax_lib._validation.arrays import (
    check_slider_values as check_slider_values,
)
from softmax_lib._validation.arrays import (
    check_weights as check_weights,
)
from softmax_lib._validation.arrays import (
    check_where as check_where,
)
from softmax_lib._validation.arrays import (
    normalize_axis as normalize_axis,
)
from softmax_lib._validation.arrays import (
    prepare as prepare,
)
from softmax_lib._validation.arrays import (
    prepared_rows as prepared_rows,
)
from softmax_lib._validation.arrays import (
    probability_tolerance as probability_tolerance,
)
from softmax_lib._validation.targets import (
    check_attention_shapes as check_attention_shapes,
)
from softmax_lib._validation.targets import (
    check_class_indices as check_class_indices,
)
from softmax_lib._validation.targets import (
    check_finite_scores as check_finite_scores,
)
from softmax_lib._validation.targets import (
    check_integer_labels as check_integer_labels,
)
from softmax_lib._validation.targets import (
    check_probability_target as check_probability_target,
)
from softmax_lib._validation.targets import (
    check_sampling_logits as check_sampling_logits,
)
from softmax_lib._validation.targets import (
    check_target_kind as check_target_kind,
)
from softmax_lib._validation.targets import (
    check_weight as check_weight,
)
from softmax_lib._validation.values import (
    MIN_REFERENCE_DIGITS as MIN_REFERENCE_DIGITS,
)
from softmax_lib._validation.values import (
    check_base as check_base,
)
from softmax_lib._validation.values import (
    check_bool as check_bool,
)
from softmax_lib._validation.values import (
    check_callable as check_callable,
)
from softmax_lib._validation.values import (
    check_choice as check_choice,
)
from softmax_lib._validation.values import (
    check_float_dtype as check_float_dtype,
)
from softmax_lib._validation.values import (
    check_generator as check_generator,
)
from softmax_lib._validation.values import (
    check_html_id as check_html_id,
)
from softmax_lib._validation.values import (
    check_ignore_index as check_ignore_index,
)
from softmax_lib._validation.values import (
    check_interval_or_none as check_interval_or_none,
)
from softmax_lib._validation.values import (
    check_json_dict_or_none as check_json_dict_or_none,
)
from softmax_lib._validation.values import (
    check_known_names as check_known_names,
)
from softmax_lib._validation.values import (
    check_min_p as check_min_p,
)
from softmax_lib._validation.values import (
    check_positive_finite as check_positive_finite,
)
from softmax_lib._validation.values import (
    check_positive_int as check_positive_int,
)
from softmax_lib._validation.values import (
    check_positive_int_or_none as check_positive_int_or_none,
)
from softmax_lib._validation.values import (
    check_real_result as check_real_result,
)
from softmax_lib._validation.values import (
    check_real_value as check_real_value,
)
from softmax_lib._validation.values import (
    check_reference_digits as check_reference_digits,
)
from softmax_lib._validation.values import (
    check_regularisation as check_regularisation,
)
from softmax_lib._validation.values import (
    check_rows as check_rows,
)
from softmax_lib._validation.values import (
    check_shape as check_shape,
)
from softmax_lib._validation.values import (
    check_str as check_str,
)
from softmax_lib._validation.values import (
    check_str_sequence as check_str_sequence,
)
from softmax_lib._validation.values import (
    check_temperature as check_temperature,
)
from softmax_lib._validation.values import (
    check_tolerance as check_tolerance,
)
from softmax_lib._validation.values import (
    check_top_p as check_top_p,
)
from softmax_lib._validation.values import (
    check_unit_interval as check_unit_interval,
)
