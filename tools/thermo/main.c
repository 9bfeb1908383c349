/* main.c - the thermo command: finds the command named by the first argument
 * and hands it the rest. A new command is one cmd_*.c file and one row in
 * the table below. */
#include "tool.h"

#include "thermo.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

typedef struct tool_command {
    const char *name;
    tool_command_fn run;
    const char *summary; /* one line for the command list */
} tool_command;

static int cmd_help(int argc, char **argv);

static const tool_command commands[] = {
    {"simulate", cmd_simulate, "run Langevin trajectories of a model; report speed, state and heat"},
    {"train", cmd_train, "train a generative thermodynamic computer; sample; measure its heat"},
    {"sample", cmd_sample, "generate images from a trained computer; measure their heat"},
    {"energy", cmd_energy, "the energy ledger: heat, entropy, and the ratio to digital computing"},
    {"classifier", cmd_classifier, "train or evaluate a digital network: the judge or the PNAS teacher"},
    {"eval", cmd_eval, "judge generated images: conditional accuracy, Frechet distance, memorisation"},
    /* commands of section nn */
    {"classify", cmd_classify, "the PNAS 2026 thermodynamic MNIST classifier: train, eval"},
    /* commands of section classify */
    {"neuron", cmd_neuron, "thermodynamic neurons: train a network by genetic algorithm (Nat. Commun.)"},
    /* commands of section neuron */
    {"linalg", cmd_linalg, "thermodynamic linear algebra on a simulated SPU: sample, solve, inv, logdet, lyap"},
    /* commands of section linalg */
    {"spice", cmd_spice, "a trained computer as a SPICE netlist; ngspice's run against thermo's"},
    {"hardware", cmd_hardware, "hardware sweep: quality and heat against bits, mismatch, noise colour, temperature"},
    {"data", cmd_data, "fetch MNIST or Fashion-MNIST; describe a folder of IDX files"},
    {"version", cmd_version, "print the version, the BLAS library and the thread counts"},
    {"help", cmd_help, "list the commands, or show one command's options: thermo help simulate"},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const tool_command *find_command(const char *name)
{
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (strcmp(commands[k].name, name) == 0) return &commands[k];
    return NULL;
}

static void print_usage(FILE *out)
{
    fprintf(out,
            "usage: thermo <command> [options]\n"
            "\n"
            "Simulates thermodynamic computers: real-valued units that fluctuate in a heat\n"
            "bath under overdamped Langevin dynamics.\n"
            "\n"
            "commands:\n");
    for (size_t k = 0; k < N_COMMANDS; k++)
        fprintf(out, "  %-10s %s\n", commands[k].name, commands[k].summary);
    fprintf(out,
            "\n"
            "Run 'thermo <command> --help' for a command's options.\n");
}

static int unknown_command(const char *name)
{
    fprintf(stderr, "thermo: unknown command '%s'\n"
                    "Run 'thermo --help' for the list of commands.\n", name);
    return TOOL_EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "thermo help: expected at most one command name\n"
                        "Run 'thermo --help' for the list of commands.\n");
        return TOOL_EXIT_USAGE;
    }
    const tool_command *c = find_command(argv[1]);
    if (!c) return unknown_command(argv[1]);
    /* Every command answers --help itself, so "help X" is "X --help". */
    char help_flag[] = "--help";
    char *args[] = {argv[1], help_flag, NULL};
    return c->run(2, args);
}

/* Two settings are read once, when the libraries load, so they need the
 * environment and a fresh start of the process (THERMO_NO_REEXEC=1 turns
 * this off):
 *   - OPENBLAS_CORETYPE, when OpenBLAS does not recognise this CPU (see
 *     th_blas_core_hint; LAPACK in linalg and eval runs on it);
 *   - OMP_WAIT_POLICY=passive, unless the user chose a policy (or libgomp's
 *     GOMP_SPINCOUNT): OpenMP threads that spin while they wait fight any
 *     other busy process for the cores, and on 2 shared cores 200 PRL samples
 *     took 3.0x their idle time with spinning threads against 2.0x with
 *     sleeping ones (bench_busy). */
static void choose_environment(char **argv)
{
    if (getenv("THERMO_NO_REEXEC")) return;
    const char *hint = th_blas_core_hint();
    const int set_core = hint && !getenv("OPENBLAS_CORETYPE");
    const int set_wait = !getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT");
    if (!set_core && !set_wait) return;
    if (set_core && setenv("OPENBLAS_CORETYPE", hint, 1) != 0) return;
    if (set_wait && setenv("OMP_WAIT_POLICY", "passive", 1) != 0) return;
    execv("/proc/self/exe", argv);
    /* exec failed: carry on as we are */
    if (set_core) unsetenv("OPENBLAS_CORETYPE");
    if (set_wait) unsetenv("OMP_WAIT_POLICY");
}

static int run_command_line(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return TOOL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
        print_usage(stdout);
        return TOOL_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) name = "version";
    const tool_command *c = find_command(name);
    if (!c) {
        if (name[0] == '-') {
            fprintf(stderr, "thermo: unknown option '%s'\n"
                            "Run 'thermo --help' for the list of commands.\n", name);
            return TOOL_EXIT_USAGE;
        }
        return unknown_command(name);
    }
    return c->run(argc - 1, argv + 1);
}

/* Under mpirun (a build with MPI=1) every process runs the same command on
 * its share of the work. MPI starts after the re-exec above, which must come
 * first, and ends on every way out, since a process that leaves without
 * MPI_Finalize fails the whole mpirun. In the single-process build both
 * calls do nothing. */
int main(int argc, char **argv)
{
    /* glibc returns freed heap memory beyond a threshold that adapts to
     * recent frees (about 2 MB after the matrix products' packing space),
     * so the exact solver's millions of products each took fresh, zeroed
     * pages from the kernel: 240 page faults a noising path, 6% of the
     * 60,000-image run's CPU time in the kernel. Keeping up to 256 MB
     * costs nothing: it is memory the run touched anyway. */
#if defined(__GLIBC__)
    mallopt(M_TRIM_THRESHOLD, 256 << 20);
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
#endif
    choose_environment(argv);
    if (th_dist_init(&argc, &argv) != TH_OK) {
        fprintf(stderr, "thermo: %s\n", th_last_error());
        return TOOL_EXIT_FAIL;
    }
    /* Under mpirun only rank 0 reports; the others' errors still reach
     * stderr. */
    if (th_dist_rank() != 0 && !freopen("/dev/null", "w", stdout)) {
        fprintf(stderr, "thermo: rank %d: cannot silence its output\n", th_dist_rank());
        th_dist_finalize();
        return TOOL_EXIT_FAIL;
    }
    int status = run_command_line(argc, argv);
    th_dist_finalize();
    return status;
}
