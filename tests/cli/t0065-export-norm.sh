# t0065-export-norm.sh - checkpoints/export.py never guesses the input normalisation: it
# takes --norm NAME or --mean/--std, or the family's public default (3 channels only), and
# otherwise refuses in one line saying how to give it; the summary line and `eeprof info`
# (text and --json) show the mean and std the file holds.
. tests/cli/lib.sh
EXPORT=checkpoints/export.py
$PY -c "
import sys, torch
sys.path.insert(0, '.')
from checkpoints import models
torch.manual_seed(0)
torch.save(models.build('resnet-cifar', depth=8, in_channels=1).state_dict(), '$T/one.pth')
m = models.build('resnet-cifar', depth=8)
torch.save({'state_dict': {'module.' + k: v for k, v in m.state_dict().items()}}, '$T/aka.th')
" || { not_ok "test checkpoints"; exit 1; }

# export_fail WHAT STATUS PATTERN ARGS...: export.py must exit STATUS with one stderr line
# "export.py: error: ..." matching PATTERN and leave no output file.
export_fail() {
	what=$1 want=$2 pat=$3; shift 3
	rm -f "$T/x.h5"
	run $PY $EXPORT "$@" "$T/x.h5"
	if [ "$rc" -eq "$want" ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
		grep -q "^export.py: error: " "$T/err" && grep -Eq -- "$pat" "$T/err" &&
		[ ! -e "$T/x.h5" ]; then
		ok "$what"
	else
		not_ok "$what: status $rc (want $want), stderr:"; sed 's/^/    /' "$T/err" | head -5
	fi
}

# info_norm WHAT CKPT MEAN STD: `eeprof info` shows MEAN and STD (comma-separated) in its
# text and as numbers in --json.
info_norm() {
	expect_ok "$1: info" "$EEPROF" info "$2"
	check "$1: info text shows mean $3, std $4" \
		"grep -qx 'mean *$3' '$T/out' && grep -qx 'std *$4' '$T/out'"
	expect_ok "$1: info --json" "$EEPROF" info "$2" --json
	check "$1: info json mean/std" "$PY -c \"
import json; d = json.load(open('$T/out'))
assert d['mean'] == [$3] and d['std'] == [$4], (d['mean'], d['std'])\""
}

export_fail "1 channel without a normalisation is refused" 2 \
	"no input normalisation for this 1-channel resnet-cifar checkpoint.*give --norm fashion-mnist\|mnist\|cifar10\|cifar100\|imagenet, or --mean and --std" \
	"$T/one.pth"
export_fail "a preset with the wrong channel count" 3 "mean and std need 1 values each" \
	"$T/one.pth" --norm cifar10
export_fail "--norm and --mean together" 2 "either --norm or --mean/--std" \
	"$T/one.pth" --norm mnist --mean 0.5 --std 0.5
export_fail "--mean without --std" 2 "--mean and --std go together" "$T/one.pth" --mean 0.5
export_fail "unknown --norm" 2 "invalid choice: 'svhn'" "$T/one.pth" --norm svhn

expect_ok "export --norm mnist" $PY $EXPORT "$T/one.pth" "$T/mnist.h5" --norm mnist
check "summary line shows the preset's values" \
	"grep -q 'mean 0.1307, std 0.3081 (--norm mnist)' '$T/out'"
info_norm "mnist" "$T/mnist.h5" 0.1307 0.3081

expect_ok "export --mean --std" $PY $EXPORT "$T/one.pth" "$T/given.h5" --mean 0.5 --std 0.25
check "summary line shows the given values" "grep -q 'mean 0.5, std 0.25 (given)' '$T/out'"
info_norm "given" "$T/given.h5" 0.5 0.25

expect_ok "export akamaster (family default)" $PY $EXPORT "$T/aka.th" "$T/aka.h5"
check "summary line names the default and whose it is" \
	"grep -q 'mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (imagenet, the default of akamaster/pytorch_resnet_cifar10' '$T/out'"
info_norm "akamaster" "$T/aka.h5" 0.485,0.456,0.406 0.229,0.224,0.225
