"""The text table `rag eval` prints from an evaluation report."""

from __future__ import annotations

from .metrics import ANSWERED_TARGET, DECLINED_TARGET


def report_table(report: dict) -> str:
    """`rag eval`'s report as the lines it prints."""
    def pct(value: float | None) -> str:
        return "  n/a" if value is None else f"{value:.3f}"

    build = report["build_seconds"]
    lines = [f"SQuAD-open: {report['questions']:,} questions against {report['passages']:,} passages"
             + (f" (index built in {build:.0f} s)" if build else "")]
    lines.append(f"{'':16}" + "".join(f"{name:>8}" for name in ("R@1", "R@3", "R@5", "R@20", "MRR")))
    for split in ("all", "report"):
        part = report[split]
        if not part["questions"]:
            continue
        for mode, scores in part["retrieval"].items():
            lines.append(f"{split + ' ' + mode:16}" + "".join(f"{v:8.3f}" for v in scores.values()))
    for split in ("all", "report"):
        part = report[split]
        if not part["questions"]:
            continue
        held = part["held_out_answered"]
        lines.append(f"{split}: short answer exact match {pct(part['exact_match'])}, F1 {pct(part['f1'])}; "
                     f"accuracy if never declining {pct(part['answer_accuracy_never_declining'])}")
        lines.append(f"{split}: answer accuracy {pct(part['answer_accuracy'])}; in-corpus answered "
                     f"{pct(part['answered'])}; held-out-article questions declined "
                     f"{pct(None if held is None else 1 - held)} of {part['held_out_questions']}")
    threshold = report["threshold"]
    lines.append(f"decline threshold: shipped {threshold['shipped']:.3f}; from the tune split: "
                 f"{pct(threshold['chosen'])} (lowest declining {DECLINED_TARGET:.0%} of held-out questions), "
                 f"{pct(threshold['answers_95'])} (highest answering {ANSWERED_TARGET:.0%} of in-corpus ones)")
    if report["calibration"]:
        c = report["calibration"]
        lines.append(f"reader calibration from the tune split: confidence = sigmoid({c['scale']:.3f} * logit + "
                     f"{c['bias']:.3f}); threshold {pct(c['threshold'])} (lowest declining "
                     f"{DECLINED_TARGET:.0%} of held-out tune questions)")
    for split, part in report.get("follow_ups", {}).items():
        if split in ("all", "report") and part["conversations"]:
            lines.append(f"{split} follow-ups ({part['conversations']} two-turn conversations): accuracy with the "
                         f"first turn {pct(part['rewritten'])}, asked alone {pct(part['alone'])}, the original "
                         f"question {pct(part['original'])}; recovered {pct(part['recovered'])}")
    ask, floor = report["latency_ms"]["ask"], report["latency_ms"]["floor"]
    lines.append(f"latency per question: p50 {ask['p50']:.1f} ms, p95 {ask['p95']:.1f} ms; encode+search floor "
                 f"p50 {floor['p50']:.1f} ms ({ask['p50'] / floor['p50']:.2f}x)")
    return "\n".join(lines)
