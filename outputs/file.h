/* file.h - the file output's ops table (see file.c); its config is
 * its own, reached only through the table. */
#ifndef FP_FILE_H
#define FP_FILE_H

#include "output.h"

extern const struct fp_output_ops fp_file_output;

#endif
