#ifndef CROWDLAB_CGSL_SHIM_H
#define CROWDLAB_CGSL_SHIM_H
#include <gsl/gsl_errno.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_vector.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_interp.h>
#include <gsl/gsl_spline.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_sf_gamma.h>

/* Swift 6 strict concurrency refuses GSL's global type pointers (mutable C globals),
   so each one is reached through an accessor. */
static inline const gsl_rng_type *crowdlab_gsl_rng_mt19937(void) { return gsl_rng_mt19937; }
static inline const gsl_multifit_nlinear_type *crowdlab_gsl_multifit_nlinear_trust(void) { return gsl_multifit_nlinear_trust; }
static inline const gsl_interp_type *crowdlab_gsl_interp_cspline_periodic(void) { return gsl_interp_cspline_periodic; }
static inline const gsl_interp_type *crowdlab_gsl_interp_cspline(void) { return gsl_interp_cspline; }
static inline const gsl_multifit_nlinear_trs *crowdlab_gsl_multifit_nlinear_trs_lm(void) { return gsl_multifit_nlinear_trs_lm; }
static inline const gsl_multimin_fminimizer_type *crowdlab_gsl_multimin_fminimizer_nmsimplex2(void) { return gsl_multimin_fminimizer_nmsimplex2; }

/* GSL aborts the process on errors by default; the library reports them as return codes instead. */
static inline void crowdlab_gsl_quiet_errors(void) { gsl_set_error_handler_off(); }
#endif
