/* student_file.c - the tool's view of a trained student for thermo energy:
 * the library's file (th_student_load) and test images
 * (th_student_images), with failures printed. */
#include "thermo.h"
#include "tool.h"

#include <stdio.h>
#include <string.h>

int tool_is_student(const th_meta *meta)
{
    return th_student_meta_is(meta);
}

void tool_student_free(tool_student *s)
{
    th_student_clear(&s->st);
    th_meta_clear(&s->meta);
    memset(s, 0, sizeof *s);
}

int tool_student_load(const char *cmd, const char *path, tool_student *s)
{
    memset(s, 0, sizeof *s);
    int rc = th_student_load(path, &s->st, &s->meta);
    if (rc != TH_OK) {
        th_meta_clear(&s->meta);
        return tool_fail_lib(cmd, rc);
    }
    s->m = s->st.model;
    s->sp = s->st.params;
    s->input_norm = s->st.input_norm;
    memcpy(s->widths, s->st.widths, sizeof s->widths);
    s->n_widths = s->st.n_widths;
    s->widths_text = th_meta_get(&s->meta, "student.teacher_widths");
    return TOOL_EXIT_OK;
}

int tool_student_images(const char *cmd, const tool_student *s, const char *dir, size_t limit,
                        th_dataset **d, float **X)
{
    int rc = th_student_images(&s->st, dir, "t10k", limit, d, X);
    return rc == TH_OK ? TOOL_EXIT_OK : tool_fail_lib(cmd, rc);
}
