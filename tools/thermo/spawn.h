/* spawn.h - starting the ordinary tools (npm, tar, apt-get) that thermo data
 * fetch leans on, directly with fork and exec so that no path passes through
 * a shell. The library never starts a program; this is the tool's part. */
#ifndef THERMO_SPAWN_H
#define THERMO_SPAWN_H

/* Whether name is an executable on PATH. */
int tool_on_path(const char *name);

/* Runs argv (argv[0] looked up on PATH) in folder cwd (NULL = ours) and
 * waits for it; its standard output goes to ours, or nowhere when quiet.
 * Returns the exit status, or -1 when it could not be started or was
 * killed. */
int tool_run(const char *cwd, char *const argv[], int quiet);

#endif
