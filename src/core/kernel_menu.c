/* kernel_menu.c - the choice among a kernel family's implementations
 * (matrix products, bfloat16 products, normals; backend.h): the one the
 * family's environment variable names when this CPU runs it, else the best
 * this CPU runs, or the one th_*_use asks for. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

static const th__kernel_id *menu_find(const th__kernel_menu *m, const char *name)
{
    for (size_t k = 0; k < m->count; k++)
        if (strcmp(m->list[k]->name, name) == 0 && m->list[k]->available()) return m->list[k];
    return NULL;
}

const th__kernel_id *th__kernel_active(th__kernel_menu *m)
{
    const th__kernel_id *k = __atomic_load_n(&m->chosen, __ATOMIC_ACQUIRE);
    if (k) return k;
    const char *want = getenv(m->env);
    k = want && *want ? menu_find(m, want) : NULL;
    for (size_t i = 0; !k && i < m->count; i++)
        if (m->list[i]->available()) k = m->list[i];
    __atomic_store_n(&m->chosen, k, __ATOMIC_RELEASE);
    return k;
}

int th__kernel_use(th__kernel_menu *m, const char *name)
{
    const th__kernel_id *k = name ? menu_find(m, name) : NULL;
    if (!k) {
        char list[128] = "";
        for (size_t i = 0; i < m->count; i++)
            if (m->list[i]->available()) {
                if (list[0]) strcat(list, ", ");
                strcat(list, m->list[i]->name);
            }
        return th__fail(TH_EINVAL, "%s '%s': this CPU runs %s", m->what, name ? name : "(null)",
                        list);
    }
    __atomic_store_n(&m->chosen, k, __ATOMIC_RELEASE);
    return TH_OK;
}
