// bench/monitor/groups.c - where a scrape's time goes: the wall time of libvirt's bulk domain
// stats per stats group (and of evos's and the old set of groups), split into 1 or 4 calls side
// by side, and of the per-domain calls evos and prometheus-libvirt-exporter make, on every
// domain of URI. run.sh runs it on the same libvirtd after the scrapes.
//   groups URI [RUNS]     prints one line per row: median and minimum over RUNS (default 15)
#include <libvirt/libvirt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static virDomainPtr* doms;
static int ndoms;

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}
static int cmp(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

enum { BULK, GETINFO, BLOCKSTATS, MEMSTATS, XMLDESC };
struct part {
  int k, calls, what;
  unsigned groups;
};

static void* run_part(void* arg) {
  const struct part* p = arg;
  if (p->what == BULK) {
    virDomainPtr list[128];
    int n = 0;
    for (int i = p->k; i < ndoms && n < 127; i += p->calls) list[n++] = doms[i];
    list[n] = NULL;
    virDomainStatsRecordPtr* recs = NULL;
    if (virDomainListGetStats(list, p->groups, &recs, 0) < 0) fprintf(stderr, "groups: bulk stats failed\n");
    if (recs) virDomainStatsRecordListFree(recs);
    return NULL;
  }
  for (int i = p->k; i < ndoms; i += p->calls) {
    if (p->what == GETINFO) {
      virDomainInfo info;
      virDomainGetInfo(doms[i], &info);
    } else if (p->what == BLOCKSTATS) {
      virDomainBlockStatsStruct b;  // the disk every bench domain has (run.sh)
      virDomainBlockStats(doms[i], "vda", &b, sizeof b);
    } else if (p->what == MEMSTATS) {
      virDomainMemoryStatStruct s[VIR_DOMAIN_MEMORY_STAT_NR];
      virDomainMemoryStats(doms[i], s, VIR_DOMAIN_MEMORY_STAT_NR, 0);
    } else {
      free(virDomainGetXMLDesc(doms[i], 0));
    }
  }
  return NULL;
}

static double once(int what, unsigned groups, int calls) {
  pthread_t th[8];
  struct part ps[8];
  const double t0 = now_ms();
  for (int k = 0; k < calls; ++k) {
    ps[k] = (struct part){k, calls, what, groups};
    pthread_create(&th[k], NULL, run_part, &ps[k]);
  }
  for (int k = 0; k < calls; ++k) pthread_join(th[k], NULL);
  return now_ms() - t0;
}

static void row(const char* name, int what, unsigned groups, int calls, int runs) {
  double t[200];
  once(what, groups, calls);  // warm-up
  for (int r = 0; r < runs; ++r) t[r] = once(what, groups, calls);
  qsort(t, (size_t)runs, sizeof t[0], cmp);
  printf("groups: %-34s calls %d  median %7.2f ms  min %7.2f ms\n", name, calls, t[runs / 2], t[0]);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: groups URI [RUNS]\n");
    return 2;
  }
  const int runs = argc > 2 ? atoi(argv[2]) : 15;
  if (runs < 1 || runs > 200) return 2;
  virConnectPtr c = virConnectOpenReadOnly(argv[1]);
  if (!c) return 1;
  ndoms = virConnectListAllDomains(c, &doms, 0);
  if (ndoms < 0) return 1;
  printf("groups: %d domains, %d runs per row\n", ndoms, runs);
  const struct {
    const char* name;
    unsigned groups;
  } g[] = {
      {"bulk state", VIR_DOMAIN_STATS_STATE},
      {"bulk cpu-total", VIR_DOMAIN_STATS_CPU_TOTAL},
      {"bulk balloon", VIR_DOMAIN_STATS_BALLOON},
      {"bulk block", VIR_DOMAIN_STATS_BLOCK},
      {"bulk interface", VIR_DOMAIN_STATS_INTERFACE},
      {"bulk vcpu", VIR_DOMAIN_STATS_VCPU},
      {"bulk state+interface+block (evos)", VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK},
      {"bulk the 5 groups (evos before)", VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |
                                              VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK},
  };
  for (size_t i = 0; i < sizeof g / sizeof g[0]; ++i) {
    row(g[i].name, BULK, g[i].groups, 1, runs);
    row(g[i].name, BULK, g[i].groups, 4, runs);
  }
  row("virDomainGetInfo each", GETINFO, 0, 1, runs);
  row("virDomainBlockStats each (vda)", BLOCKSTATS, 0, 4, runs);
  row("virDomainMemoryStats each", MEMSTATS, 0, 4, runs);
  row("virDomainGetXMLDesc each", XMLDESC, 0, 4, runs);
  for (int i = 0; i < ndoms; ++i) virDomainFree(doms[i]);
  free(doms);
  virConnectClose(c);
  return 0;
}
