#ifndef COSMICBENCH_CBLAS_SHIM_H
#define COSMICBENCH_CBLAS_SHIM_H
/* OpenBLAS's CBLAS interface plus its runtime queries (corename, threads). */
#include <cblas.h>
#endif
