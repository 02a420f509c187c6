/*
 * report_extra.h - what a report says beyond report.c's exits, curve, budgets and gate
 * ratios: calibration per exit, where each class's samples leave, and the EMG gates
 * against difficulty, in every file of the report.
 *
 * The rule (class_rule): the report's rule when --threshold gave one (m->rule, applied by
 * report.c), else its policy and fallback at 0.9 (patience 1), decides the exit each
 * sample takes for the class shares and the right/wrong split of the gates
 * (difficulty.h).
 *
 * Files and fields:
 *   report.json  models[].exits[].calibration {ece, ece_adaptive, mce, brier, nll,
 *                accuracy, confidence, [temperature, calibrated {the same after scaling}]},
 *                models[].analysis_rule {thresholds[E] (patience: [1]), given},
 *                models[].classes[] {class, samples, exit_share[E], fallback_share},
 *                models[].calibration_budget_table[] {fraction, budget_macs, accuracy,
 *                accuracy_calibrated} (with a validation trace that has logits),
 *                models[].gates[] gain open_ratio_right, open_ratio_wrong,
 *                pearson_confidence; models[].gate_difficulty {samples_right,
 *                samples_wrong, pearson, spearman} (EMG models)
 *   report.md    sections "Calibration", "Where each class leaves", and the gates'
 *                right/wrong columns
 *   calibration.csv  model, exit, ece, ece_adaptive, mce, brier, nll, accuracy,
 *                confidence, temperature, and the same after scaling
 *   classes.csv  model, class, samples, share per exit, fallback share
 *   reliability-<model>.{png,svg}  calplot.h's diagram
 *   classes-<model>.{png,svg}      stacked bars: the share of each class's samples per exit
 */
#ifndef EE_REPORT_EXTRA_H
#define EE_REPORT_EXTRA_H

#include <stdio.h>

#include "json.h"
#include "report.h"

/* Fills m's extra analyses (called by report.c's analyse). */
int ee_report_extra_analyse(struct ee_report_model *m, const struct ee_report *r,
			    const struct ee_trace *t, const struct ee_trace *val,
			    struct ee_err *err);
void ee_report_extra_release(struct ee_report_model *m);

/* A number in a report.md table cell: "-" for NaN (none fits, no data), else with
 * decimals decimals; buf returned (report_md.c). */
const char *ee_report_md_num(char *buf, size_t size, double v, int decimals);

/* report.json: the calibration object of exit k (inside exits[]), and m's other fields. */
void ee_report_json_calibration(struct ee_json *j, const struct ee_report_model *m, int k);
void ee_report_json_extra(struct ee_json *j, const struct ee_report_model *m);
/* The gates[] fields of layer g. */
void ee_report_json_gate_difficulty(struct ee_json *j, const struct ee_report_model *m, int g);

/* report.md sections of m. */
void ee_report_md_extra(const struct ee_report *r, const struct ee_report_model *m, bool plots,
			FILE *f);

void ee_report_csv_calibration(const struct ee_report *r, FILE *f);
void ee_report_csv_classes(const struct ee_report *r, FILE *f);

/* Plots of m: the reliability diagram, and the class shares (0: nothing to draw: one exit). */
void ee_report_plot_reliability(const struct ee_report *r, const struct ee_report_model *m,
				struct ee_plot *p);
void ee_report_plot_classes(const struct ee_report *r, const struct ee_report_model *m,
			    struct ee_plot *p);
int ee_report_class_plots(const struct ee_report_model *m);

#endif
