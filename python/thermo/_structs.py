"""The C structures of include/thermo/*.h that the package passes by value or
fills, mirrored field by field under their C names, and the prototypes of the
functions it calls.

tests/test_layout.py compiles a C program that prints sizeof and offsetof of
each structure below and compares them with these mirrors, so a header that
changes without this file fails the tests instead of corrupting memory.
"""
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint, c_uint8, c_uint64, c_ubyte, c_void_p)

MAX_GROUPS = 8          # TH_MAX_GROUPS
MLP_MAX_LAYERS = 8      # TH_MLP_MAX_LAYERS
SWEEP_MAX_POINTS = 20   # TH_TLA_SWEEP_MAX_POINTS
ENERGY_MAX_LAYERS = 64  # TH_ENERGY_MAX_LAYERS
ENERGY_MAX_BINS = 40    # TH_ENERGY_MAX_BINS
ENERGY_N_LINES = 4      # TH_ENERGY_N_LINES
GEN_SAMPLE_STREAM = 1 << 33
GEN_MAX_SEGMENTS = 64   # TH_GEN_MAX_SEGMENTS

# The header's constants above, by their C names, for the layout test.
CONSTANTS = {"TH_MAX_GROUPS": MAX_GROUPS, "TH_MLP_MAX_LAYERS": MLP_MAX_LAYERS,
             "TH_TLA_SWEEP_MAX_POINTS": SWEEP_MAX_POINTS,
             "TH_ENERGY_MAX_LAYERS": ENERGY_MAX_LAYERS, "TH_ENERGY_MAX_BINS": ENERGY_MAX_BINS,
             "TH_ENERGY_N_LINES": ENERGY_N_LINES, "TH_GEN_SAMPLE_STREAM": GEN_SAMPLE_STREAM,
             "TH_GEN_MAX_SEGMENTS": GEN_MAX_SEGMENTS}

c_size_p = POINTER(c_size_t)

# ------------------------------------------------------ callback types

th_progress_fn = CFUNCTYPE(c_int, c_size_t, c_size_t, c_void_p)
th_solve_progress_fn = CFUNCTYPE(c_int, c_size_t, c_double, c_void_p)
th_student_update_fn = CFUNCTYPE(c_int, c_size_t, c_size_t, c_double, c_void_p)
th_tla_point_fn = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)


# --------------------------------------------------------------- core.h

class th_model(Structure):
    _fields_ = [
        ("dtype", c_int),
        ("n", c_size_t),
        ("n_groups", c_size_t),
        ("group_start", c_size_t * (MAX_GROUPS + 1)),
        ("couples", (c_ubyte * MAX_GROUPS) * MAX_GROUPS),
        ("kT", c_double),
        ("mu", c_double),
        ("J2", c_void_p),
        ("J3", c_void_p),
        ("J4", c_void_p),
        ("b", c_void_p),
        ("J", c_void_p),
    ]


class th_run(Structure):
    _fields_ = [
        ("n_steps", c_size_t),
        ("dt", c_double),
        ("clamped", c_void_p),
        ("drive", c_void_p),
        ("snap_steps", c_size_p),
        ("n_snaps", c_size_t),
        ("snap_out", c_void_p),
        ("kernel", c_int),
        ("noise", c_int),
        ("precision", c_int),
        ("blowup", c_double),
        ("bath", c_void_p),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
        ("progress_every", c_size_t),
    ]


class th_sim_spec(Structure):
    _fields_ = [
        ("n_groups", c_size_t),
        ("size", c_size_t * MAX_GROUPS),
        ("n_links", c_size_t),
        ("link", (c_size_t * 2) * (MAX_GROUPS * MAX_GROUPS)),
        ("coupling", c_double),
        ("J2", c_double),
        ("J4", c_double),
        ("bias", c_double),
        ("kT", c_double),
        ("mu", c_double),
        ("seed", c_uint64),
        ("dtype", c_int),
    ]


class th_sim_stats(Structure):
    _fields_ = [(name, c_double) for name in
                ("wall", "x_mean", "x_var", "heat_mean", "heat_sd", "law_mean", "law_max")]


# ----------------------------------------------------------------- io.h

class th_meta(Structure):
    _fields_ = [("count", c_size_t), ("keys", POINTER(c_char_p)), ("values", POINTER(c_char_p))]


class th_dataset(Structure):
    _fields_ = [
        ("count", c_size_t),
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("pixels", POINTER(c_uint8)),
        ("labels", POINTER(c_uint8)),
    ]


# ---------------------------------------------------------------- gen.h

class th_gen_params(Structure):
    _fields_ = [
        ("n_visible", c_size_t),
        ("n_hidden", c_size_t),
        ("kT", c_double),
        ("J2", c_double),
        ("J4", c_double),
        ("mu", c_double),
        ("dt", c_double),
        ("t_f", c_double),
        ("drive", c_double),
        ("ramp_fraction", c_double),
        ("hidden_drive", c_int),
        ("seed", c_uint64),
        ("block_steps", c_size_t),
        ("n_classes", c_size_t),
        ("label_visible", c_size_t),
        ("visible_bias", c_size_t),
        ("segments", c_size_t),
        ("hidden_double_well", c_size_t),
        ("styles", c_size_t),
    ]


class th_gen_train_opts(Structure):
    _fields_ = [
        ("updates", c_size_t),
        ("learning_rate", c_double),
        ("batch", c_size_t),
        ("on_update", c_void_p),
        ("ctx", c_void_p),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
        ("device", c_void_p),
        ("device_ctx", c_void_p),
    ]


class th_solve_opts(Structure):
    _fields_ = [
        ("ridge", c_double),
        ("tolerance", c_double),
        ("max_iterations", c_size_t),
        ("progress", th_solve_progress_fn),
        ("progress_ctx", c_void_p),
        ("clamped_ridge", c_double),
        ("bias_ridge", c_double),
    ]


class th_solve_result(Structure):
    _fields_ = [("iterations", c_size_t), ("residual", c_double), ("converged", c_int)]


class th_gen_sample_opts(Structure):
    _fields_ = [
        ("batch", c_size_t),
        ("first", c_uint64),
        ("phase1", c_int),
        ("snap_steps", c_size_p),
        ("n_snaps", c_size_t),
        ("snap_traj", c_size_t),
        ("snap_out", POINTER(c_float)),
        ("classes", POINTER(c_int)),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
        ("precision", c_int),
        ("bath", c_void_p),
        ("readout_window", c_size_t),
        ("work", POINTER(c_double)),
        ("potential_change", POINTER(c_double)),
    ]


class th_gen_recipe(Structure):
    _fields_ = [
        ("name", c_char_p),
        ("data", c_char_p),
        ("images", c_size_t),
        ("pool", c_size_t),
        ("classes", c_int),
        ("class_visible", c_int),
        ("visible_bias", c_int),
        ("latent_classes", c_int),
        ("hidden_double_well", c_int),
        ("solver", c_int),
        ("updates", c_size_t),
        ("learning_rate", c_double),
        ("batch", c_size_t),
        ("checkpoint_every", c_size_t),
        ("paths", c_size_t),
        ("stride", c_size_t),
        ("ridge", c_double),
        ("class_ridge", c_double),
        ("bias_ridge", c_double),
        ("samples", c_size_t),
        ("seed", c_uint64),
        ("t_f", c_double),
        ("hidden", c_size_t),
        ("hidden_drive", c_int),
        ("drive", c_double),
        ("ramp_fraction", c_double),
        ("segments", c_size_t),
        ("segment_penalty", c_double),
        ("readout_window", c_size_t),
        ("styles", c_size_t),
    ]


class th_gen_training_set(Structure):
    _fields_ = [
        ("count", c_size_t),
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("pool", c_size_t),
        ("images", POINTER(c_float)),
        ("labels", POINTER(c_int)),
        ("n_classes", c_size_t),
        ("fnv1a64", c_uint64),
        ("index", c_size_t * 3),
        ("styles", c_size_t),
    ]


class th_gen_exact_report(Structure):
    _fields_ = [
        ("paths", c_size_t),
        ("iterations", c_size_t),
        ("residual", c_double),
        ("converged", c_int),
        ("loss_zero", c_double),
        ("loss_solved", c_double),
        ("loss_compare", c_double),
    ]


class th_gen_picture(Structure):
    _fields_ = [
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("lo", c_float),
        ("hi", c_float),
        ("range_from_file", c_int),
    ]


# ----------------------------------------------------------------- nn.h

class th_mlp(Structure):
    _fields_ = [
        ("n_layers", c_int),
        ("width", c_size_t * (MLP_MAX_LAYERS + 1)),
        ("act", c_int),
        ("W", POINTER(c_float) * MLP_MAX_LAYERS),
        ("b", POINTER(c_float) * MLP_MAX_LAYERS),
        ("input", c_int),
        ("input_norm", c_double),
    ]


class th_mlp_preset(Structure):
    _fields_ = [
        ("n_layers", c_int),
        ("width", c_size_t * (MLP_MAX_LAYERS + 1)),
        ("act", c_int),
        ("input", c_int),
        ("epochs", c_size_t),
        ("batch", c_size_t),
        ("learning_rate", c_double),
        ("weight_decay", c_double),
    ]


class th_mlp_train_params(Structure):
    _fields_ = [
        ("epochs", c_size_t),
        ("batch", c_size_t),
        ("optimizer", c_int),
        ("learning_rate", c_double),
        ("cosine", c_int),
        ("momentum", c_double),
        ("beta1", c_double),
        ("beta2", c_double),
        ("epsilon", c_double),
        ("weight_decay", c_double),
        ("seed", c_uint64),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
        ("on_epoch", c_void_p),
        ("epoch_ctx", c_void_p),
    ]


class th_mlp_report(Structure):
    _fields_ = [
        ("count", c_size_t),
        ("classes", c_size_t),
        ("accuracy", c_double),
        ("top2", c_double),
        ("confusion", c_size_p),
        ("class_count", c_size_p),
        ("class_accuracy", POINTER(c_double)),
    ]


# ----------------------------------------------------------- classify.h

class th_student_params(Structure):
    _fields_ = [
        ("n_input", c_size_t),
        ("n_hidden", c_size_t),
        ("n_output", c_size_t),
        ("kT", c_double),
        ("J2", c_double),
        ("J4", c_double),
        ("mu", c_double),
        ("dt", c_double),
        ("t_f", c_double),
        ("gain", c_double),
        ("output_temperature", c_double),
        ("seed", c_uint64),
    ]


class th_student_train_opts(Structure):
    _fields_ = [
        ("epochs", c_size_t),
        ("batch", c_size_t),
        ("learning_rate", c_double),
        ("beta1", c_double),
        ("beta2", c_double),
        ("epsilon", c_double),
        ("cosine", c_int),
        ("on_update", th_student_update_fn),
        ("ctx", c_void_p),
    ]


class th_student_fit_opts(Structure):
    _fields_ = [
        ("solver", c_int),
        ("ridge", c_double),
        ("stats_batch", c_size_t),
        ("train", th_student_train_opts),
        ("on_paths", th_progress_fn),
        ("on_iteration", th_solve_progress_fn),
        ("ctx", c_void_p),
        ("solve", th_solve_opts),
    ]


class th_student_fit_report(Structure):
    _fields_ = [
        ("images", c_size_t),
        ("paths", c_size_t),
        ("solve", th_solve_result),
        ("objective_zero", c_double),
        ("objective", c_double),
        ("accumulate_seconds", c_double),
        ("solve_seconds", c_double),
    ]


class th_student(Structure):
    _fields_ = [
        ("model", POINTER(th_model)),
        ("params", th_student_params),
        ("input_norm", c_double),
        ("widths", c_size_t * (MLP_MAX_LAYERS + 1)),
        ("n_widths", c_size_t),
    ]


class th_student_eval_opts(Structure):
    _fields_ = [
        ("trajectories", c_size_t),
        ("batch_rows", c_size_t),
        ("first", c_uint64),
        ("kernel", c_int),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
        ("bath", c_void_p),
        ("readout", c_void_p),
        ("readout_ctx", c_void_p),
    ]


class th_heat_stats(Structure):
    _fields_ = [
        ("count", c_size_t),
        ("mean", c_double),
        ("sd", c_double),
        ("min", c_double),
        ("max", c_double),
        ("negative", c_size_t),
    ]


class th_student_report(Structure):
    _fields_ = [
        ("images", c_size_t),
        ("trajectories", c_size_t),
        ("top1", c_double),
        ("top2", c_double),
        ("single_top1", c_double),
        ("single_top2", c_double),
        ("heat", th_heat_stats),
        ("heat_class_kT", c_double),
        ("kT_J", c_double),
        ("heat_class_J", c_double),
        ("teacher_macs", c_uint64),
        ("digital_J", c_double),
        ("ratio_defined", c_int),
        ("ratio", c_double),
    ]


# ------------------------------------------------------------- linalg.h

class th_spu_params(Structure):
    _fields_ = [
        ("model", c_int),
        ("inductance", c_double),
        ("resistance", c_double),
        ("cap_max", c_double),
        ("kappa0", c_double),
        ("bits", c_uint),
        ("mismatch", c_double),
        ("copy", c_uint64),
        ("hw_seed", c_uint64),
    ]


class th_tla_protocol(Structure):
    _fields_ = [
        ("time", c_double),
        ("burn_in", c_double),
        ("sample_interval", c_double),
        ("dt", c_double),
        ("chains", c_size_t),
        ("batches", c_size_t),
        ("integrator", c_int),
        ("seed", c_uint64),
        ("lambda_nodes", c_size_t),
        ("a0", c_double),
    ]


class th_tla_result(Structure):
    _fields_ = [
        ("rows", c_size_t),
        ("cols", c_size_t),
        ("estimate", POINTER(c_double)),
        ("std_error", POINTER(c_double)),
        ("error", c_double),
        ("sim_time", c_double),
        ("samples", c_size_t),
    ]


class th_tla_problem(Structure):
    _fields_ = [
        ("alg", c_int),
        ("d", c_size_t),
        ("A", POINTER(c_double)),
        ("b", POINTER(c_double)),
        ("D", POINTER(c_double)),
    ]


class th_tla_sweep_opts(Structure):
    _fields_ = [
        ("hw", th_spu_params),
        ("protocol", th_tla_protocol),
        ("time", c_double),
        ("points", c_size_t),
        ("copies", c_size_t),
        ("seed", c_uint64),
        ("n_samples", c_size_t),
        ("on_point", th_tla_point_fn),
        ("ctx", c_void_p),
    ]


_POINTS = c_double * SWEEP_MAX_POINTS


class th_tla_sweep(Structure):
    _fields_ = [
        ("alg", c_int),
        ("d", c_size_t),
        ("stage", c_int),
        ("absolute", c_int),
        ("model", c_int),
        ("mapping", c_int),
        ("cells", c_size_t),
        ("alpha", c_double),
        ("tau", c_double),
        ("tau_fast", c_double),
        ("time", c_double),
        ("reference", POINTER(c_double)),
        ("ref_n", c_size_t),
        ("lapack_wall", c_double),
        ("floor", c_double),
        ("points", c_size_t),
        ("time_sim", _POINTS),
        ("error", _POINTS),
        ("estimate", _POINTS),
        ("wall", _POINTS),
        ("last", th_tla_result),
        ("samples", POINTER(c_double)),
        ("n_samples", c_size_t),
        ("prog_", POINTER(c_double)),
        ("noise_", POINTER(c_double)),
    ]


# ------------------------------------------------------------- energy.h

class th_energy_sim_ops(Structure):
    _fields_ = [(name, c_uint64) for name in
                ("steps", "coupling_pairs", "coupling_macs", "onsite_macs", "normals")]


class th_energy_opts(Structure):
    _fields_ = [
        ("temperature_K", c_double),
        ("time_unit_s", c_double),
        ("mac_energy_J", c_double),
        ("network", c_size_p),
        ("n_layers", c_size_t),
        ("steps", c_size_t),
        ("trajectories", c_size_t),
        ("rapl_root", c_char_p),
        ("progress", th_progress_fn),
        ("progress_ctx", c_void_p),
    ]


class th_energy_line(Structure):
    _fields_ = [
        ("id", c_char_p),
        ("label", c_char * 160),
        ("assumes", c_char * (ENERGY_MAX_LAYERS * 21 + 256)),
        ("available", c_int),
        ("why_not", c_char * 512),
        ("macs", c_double),
        ("joules", c_double),
        ("ratio_defined", c_int),
        ("ratio", c_double),
    ]


class th_energy_paper(Structure):
    _fields_ = [
        ("macs", c_double),
        ("mac_J", c_double),
        ("heat_kT", c_double),
        ("trajectories", c_size_t),
        ("temperature_K", c_double),
        ("kT_J", c_double),
        ("ratio", c_double),
    ]


class th_energy_ledger(Structure):
    _fields_ = [
        ("classifier", c_int),
        ("temperature_K", c_double),
        ("time_unit_s", c_double),
        ("mac_energy_J", c_double),
        ("trajectories", c_size_t),
        ("network", c_size_t * ENERGY_MAX_LAYERS),
        ("n_layers", c_size_t),
        ("steps", c_size_t),
        ("ops", th_energy_sim_ops),
        ("hs", th_heat_stats),
        ("bins", c_size_t * ENERGY_MAX_BINS),
        ("n_bins", c_size_t),
        ("bin_lo", c_double),
        ("bin_hi", c_double),
        ("kT_J", c_double),
        ("heat_J", c_double),
        ("noise_s", c_double),
        ("compute_s", c_double),
        ("rapl_J", c_double),
        ("rapl_zones", c_size_t),
        ("line", th_energy_line * ENERGY_N_LINES),
        ("paper", th_energy_paper),
        ("left_out", c_char_p),
        ("left_out_items", POINTER(c_char_p)),
        ("n_left_out", c_size_t),
        ("seed", c_uint64),
        ("dt", c_double),
        ("n_units", c_size_t),
        ("wall_s", c_double),
        ("top1", c_double),
        ("overflow", c_int),
        ("segments", c_size_t),
        ("work", th_heat_stats),
        ("potential_change", th_heat_stats),
        ("work_J", c_double),
        ("first_law_mean_abs", c_double),
        ("first_law_max_abs", c_double),
    ]


# ----------------------------------------------------------------- io.h: charts

class th_chart_axis(Structure):
    _fields_ = [
        ("scale", c_int),
        ("title", c_char_p),
        ("fixed", c_int),
        ("lo", c_double),
        ("hi", c_double),
        ("pad", c_double),
        ("ticks", c_size_t),
        ("numbers", c_int),
        ("grid", c_int),
    ]


class th_chart_series(Structure):
    _fields_ = [
        ("kind", c_int),
        ("x", POINTER(c_double)),
        ("y", POINTER(c_double)),
        ("n", c_size_t),
        ("rgb", c_uint8 * 3),
        ("dashed", c_int),
        ("markers", c_int),
        ("err", POINTER(c_double)),
        ("pen", c_size_t),
        ("label", c_char_p),
    ]


class th_chart(Structure):
    _fields_ = [
        ("width", c_size_t),
        ("height", c_size_t),
        ("title", c_char_p),
        ("x", th_chart_axis),
        ("y", th_chart_axis),
        ("series", POINTER(th_chart_series)),
        ("n_series", c_size_t),
        ("legend", c_int),
    ]


# Every mirrored structure, for the layout test.
STRUCTS = [th_model, th_run, th_sim_spec, th_sim_stats, th_meta, th_dataset, th_gen_params,
           th_gen_train_opts, th_solve_opts, th_solve_result, th_gen_sample_opts,
           th_gen_recipe, th_gen_training_set, th_gen_exact_report, th_gen_picture, th_mlp,
           th_mlp_preset, th_mlp_train_params, th_mlp_report, th_student_params,
           th_student_train_opts, th_student_fit_opts, th_student_fit_report, th_student,
           th_student_eval_opts, th_heat_stats, th_student_report, th_spu_params,
           th_tla_protocol, th_tla_result, th_tla_problem, th_tla_sweep_opts, th_tla_sweep,
           th_energy_sim_ops, th_energy_opts, th_energy_line, th_energy_paper,
           th_energy_ledger, th_chart_axis, th_chart_series, th_chart]

# ----------------------------------------------------------- prototypes

_int, _size, _dbl, _void, _str = c_int, c_size_t, c_double, None, c_char_p
_model_p = POINTER(th_model)
_meta_p = POINTER(th_meta)
_dataset_p = POINTER(th_dataset)
_f32_p, _f64_p, _int_p = POINTER(c_float), POINTER(c_double), POINTER(c_int)
_mlp_p = POINTER(th_mlp)
_gp_p = POINTER(th_gen_params)
_sp_p = POINTER(th_student_params)

PROTOTYPES = {
    # core.h
    "th_strerror": (_str, [_int]),
    "th_last_error": (_str, []),
    "th_version": (_str, []),
    "th_model_alloc": (_model_p, [_size, c_size_p, _int]),
    "th_model_free": (_void, [_model_p]),
    "th_model_couple": (_int, [_model_p, _size, _size]),
    "th_model_set_coupling": (_int, [_model_p, _size, _size, _dbl]),
    "th_model_get_coupling": (_dbl, [_model_p, _size, _size]),
    "th_model_set_onsite3": (_void, [_model_p, _dbl, _dbl, _dbl]),
    "th_model_validate": (_int, [_model_p]),
    "th_model_coupling_pairs": (_size, [_model_p]),
    "th_model_potential": (_void, [_model_p, c_void_p, _dbl, c_void_p, _size, _f64_p]),
    "th_batch_alloc": (c_void_p, [_model_p, _size, c_uint64]),
    "th_batch_free": (_void, [c_void_p]),
    "th_batch_reset": (_void, [c_void_p]),
    "th_batch_size": (_size, [c_void_p]),
    "th_batch_units": (_size, [c_void_p]),
    "th_batch_dtype": (_int, [c_void_p]),
    "th_batch_states": (c_void_p, [c_void_p]),
    "th_batch_heat": (c_void_p, [c_void_p]),
    "th_batch_work": (c_void_p, [c_void_p]),
    "th_batch_seed": (c_uint64, [c_void_p]),
    "th_batch_step": (c_uint64, [c_void_p]),
    "th_batch_time": (_dbl, [c_void_p]),
    "th_batch_stream": (c_uint64, [c_void_p, _size]),
    "th_batch_set_stream": (_void, [c_void_p, _size, c_uint64]),
    "th_run_default": (th_run, []),
    "th_langevin_run": (_int, [_model_p, c_void_p, POINTER(th_run)]),
    "th_sim_model": (_model_p, [POINTER(th_sim_spec)]),
    "th_sim_run": (_int, [_model_p, _size, c_uint64, POINTER(th_run), POINTER(th_sim_stats)]),
    # io.h
    "th_meta_set": (_int, [_meta_p, _str, _str]),
    "th_meta_get": (_str, [_meta_p, _str]),
    "th_meta_clear": (_void, [_meta_p]),
    "th_model_save": (_int, [_str, _model_p, _meta_p]),
    "th_model_load": (_int, [_str, POINTER(_model_p), _meta_p]),
    "th_dataset_load_dir": (_int, [_str, _str, POINTER(_dataset_p)]),
    "th_dataset_free": (_void, [_dataset_p]),
    # gen.h
    "th_gen_params_default": (th_gen_params, []),
    "th_gen_params_validate": (_int, [_gp_p]),
    "th_gen_params_from_meta": (_int, [_meta_p, _gp_p]),
    "th_gen_steps": (_size, [_gp_p]),
    "th_gen_model_alloc": (_model_p, [_gp_p, _int]),
    "th_gen_train_opts_default": (th_gen_train_opts, []),
    "th_gen_train": (_int, [_model_p, _gp_p, _f32_p, _int_p, _size,
                            POINTER(th_gen_train_opts), _size, _f64_p]),
    "th_gen_stats_accumulate": (_int, [_gp_p, _int, _f32_p, _int_p, _size, _size, _size, _size,
                                       th_progress_fn, c_void_p, POINTER(c_void_p)]),
    "th_gen_stats_free": (_void, [c_void_p]),
    "th_solve_opts_default": (th_solve_opts, []),
    "th_gen_stats_fit": (_int, [c_void_p, _gp_p, _dbl, _str, POINTER(th_solve_opts), _model_p,
                                POINTER(th_gen_exact_report)]),
    "th_gen_protocol_alloc": (c_void_p, [_gp_p, _int]),
    "th_gen_protocol_segment": (_model_p, [c_void_p, _size]),
    "th_gen_protocol_save": (_int, [_str, c_void_p, _meta_p]),
    "th_gen_protocol_train": (_int, [c_void_p, _gp_p, _f32_p, _int_p, _size,
                                     POINTER(th_gen_train_opts), _size, _f64_p]),
    "th_gen_stats_protocol_fit": (_int, [c_void_p, _gp_p, _dbl, _dbl, _str,
                                         POINTER(th_solve_opts), c_void_p,
                                         POINTER(th_gen_exact_report)]),
    "th_gen_protocol_load": (_int, [_str, POINTER(c_void_p), _gp_p, _meta_p]),
    "th_gen_protocol_free": (_void, [c_void_p]),
    "th_gen_protocol_sample": (_int, [c_void_p, _gp_p, _size, POINTER(th_gen_sample_opts),
                                      _f32_p, _f64_p]),
    "th_gen_sample_opts_default": (th_gen_sample_opts, []),
    "th_gen_sample": (_int, [_model_p, _gp_p, _size, POINTER(th_gen_sample_opts), _f32_p,
                             _f64_p]),
    "th_gen_recipe_names": (POINTER(c_char_p), []),
    "th_gen_recipe_preset": (_int, [_str, POINTER(th_gen_recipe)]),
    "th_gen_training_set_styles": (_int, [POINTER(th_gen_training_set), _size, c_uint64]),
    "th_gen_style_code": (_int, [POINTER(th_gen_params), _int, c_uint64]),
    "th_gen_classes": (_size, [POINTER(th_gen_params)]),
    "th_gen_training_set_from_dataset": (_int, [_dataset_p, _str, _size, _size, _int,
                                                POINTER(POINTER(th_gen_training_set))]),
    "th_gen_training_set_free": (_void, [POINTER(th_gen_training_set)]),
    "th_gen_recipe_params": (_int, [POINTER(th_gen_recipe), POINTER(th_gen_training_set),
                                    _gp_p]),
    "th_gen_recipe_to_meta": (_int, [POINTER(th_gen_recipe), _gp_p,
                                     POINTER(th_gen_training_set), _meta_p]),
    "th_gen_loss_per_unit": (_dbl, [_gp_p, _dbl]),
    "th_gen_prepared_range": (_int, [_gp_p, _f32_p, _int_p, _size, _f32_p, _f32_p]),
    "th_gen_picture_from_meta": (_int, [_str, _meta_p, _size, POINTER(th_gen_picture)]),
    "th_heat_stats_compute": (_int, [_f64_p, _size, POINTER(th_heat_stats)]),
    "th_chart_draw": (c_void_p, [POINTER(th_chart)]),
    "th_png_write": (_int, [_str, c_void_p, _size]),
    "th_canvas_free": (_void, [c_void_p]),
    # energy.h
    "th_energy_opts_default": (th_energy_opts, []),
    "th_energy_run_gen": (_int, [_model_p, _gp_p, _size, POINTER(th_energy_opts),
                                 POINTER(th_energy_ledger)]),
    "th_energy_run_gen_protocol": (_int, [c_void_p, _gp_p, _size, POINTER(th_energy_opts),
                                          POINTER(th_energy_ledger)]),
    "th_energy_run_student": (_int, [_model_p, _sp_p, c_size_p, _size, _f32_p,
                                     POINTER(c_uint8), _size, POINTER(th_energy_opts),
                                     POINTER(th_energy_ledger)]),
    "th_energy_ledger_json": (c_void_p, [POINTER(th_energy_ledger), _str, _str]),
    "th_energy_ledger_text": (c_void_p, [POINTER(th_energy_ledger), _str]),
    # nn.h
    "th_mlp_free": (_void, [_mlp_p]),
    "th_mlp_forward": (_int, [_mlp_p, _f32_p, _size, _f32_p, c_void_p]),
    "th_mlp_prepare": (_int, [_mlp_p, _dataset_p, _size, _size, _f32_p]),
    "th_mlp_save_meta": (_int, [_str, _mlp_p, _meta_p]),
    "th_mlp_load_meta": (_int, [_str, POINTER(_mlp_p), _meta_p]),
    "th_mlp_train_params_default": (th_mlp_train_params, []),
    "th_mlp_preset_get": (th_mlp_preset, [_int]),
    "th_mlp_build": (_int, [POINTER(th_mlp_preset), _dataset_p, c_uint64, POINTER(_mlp_p)]),
    "th_mlp_fit": (_int, [_mlp_p, _dataset_p, POINTER(th_mlp_train_params)]),
    "th_mlp_train_meta": (_int, [POINTER(th_mlp_train_params), _size, _meta_p]),
    "th_mlp_report_compute": (_int, [_mlp_p, _dataset_p, POINTER(th_mlp_report)]),
    "th_mlp_report_free": (_void, [POINTER(th_mlp_report)]),
    # classify.h
    "th_student_params_default": (th_student_params, []),
    "th_student_params_validate": (_int, [_sp_p]),
    "th_student_params_for_teacher": (_int, [_mlp_p, _sp_p]),
    "th_student_steps": (_size, [_sp_p]),
    "th_student_fit_opts_default": (th_student_fit_opts, []),
    "th_student_fit": (_int, [_mlp_p, _dataset_p, _sp_p, POINTER(th_student_fit_opts),
                              POINTER(th_student), POINTER(th_student_fit_report), _f64_p]),
    "th_student_fit_meta": (_int, [POINTER(th_student_fit_opts),
                                   POINTER(th_student_fit_report), _meta_p]),
    "th_student_save": (_int, [_str, POINTER(th_student), _meta_p]),
    "th_student_load": (_int, [_str, POINTER(th_student), _meta_p]),
    "th_student_clear": (_void, [POINTER(th_student)]),
    "th_student_dataset": (_int, [_str, _str, _size, POINTER(_dataset_p)]),
    "th_student_images": (_int, [POINTER(th_student), _str, _str, _size, POINTER(_dataset_p),
                                 POINTER(_f32_p)]),
    "th_student_prepare": (_int, [POINTER(th_student), _dataset_p, _size, _size, _f32_p]),
    "th_student_eval_opts_default": (th_student_eval_opts, []),
    "th_student_classify": (_int, [_model_p, _sp_p, _f32_p, _size,
                                   POINTER(th_student_eval_opts), _f32_p, _f32_p, _f64_p]),
    "th_student_evaluate": (_int, [POINTER(th_student), _sp_p, _dataset_p, _f32_p,
                                   POINTER(th_student_eval_opts), _dbl, _dbl,
                                   POINTER(th_student_report)]),
    # linalg.h
    "th_tla_sweep_opts_default": (th_tla_sweep_opts, []),
    "th_tla_sweep_run": (_int, [POINTER(th_tla_problem), POINTER(th_tla_sweep_opts),
                                POINTER(th_tla_sweep)]),
    "th_tla_sweep_free": (_void, [POINTER(th_tla_sweep)]),
}


def declare(lib):
    """Sets restype and argtypes of every function the package calls."""
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
