"""What the families' training hooks share (checkpoints/train.py calls them through each
family module, models/__init__.py): the soft cross-entropy of the self-distillation losses,
the cross-entropy of a one-exit network, and the two ways the public repositories save.
"""
import torch
import torch.nn.functional as F


def soft_ce(student, teacher, T):
    """-mean_batch sum_c softmax(teacher/T) log_softmax(student/T)."""
    return -(F.softmax(teacher / T, dim=1) * F.log_softmax(student / T, dim=1)).sum(1).mean()


def single_exit_loss(model, outputs, y, settings):
    """Cross-entropy of a one-exit network (torchvision's and akamaster's trainers)."""
    return F.cross_entropy(outputs, y)


def save_bare(model, path, best_prec1, epoch):
    """torch.save(net.state_dict(), path): SCAN, the journal code, the EMGNet author's
    train.py, torchvision."""
    torch.save(model.state_dict(), path)


def dataparallel_keys(sd):
    """The keys a state_dict gets when saved from an nn.DataParallel model."""
    return {"module." + k: v for k, v in sd.items()}
