# t0010-bad-input.sh - every kind of bad input gets one "eeprof: error:" line that
# names the file and the problem, exit status 3 (2 for usage), and no output file.
. tests/cli/lib.sh
$PY tests/cli/fixtures.py "$T/fx" || { not_ok "fixtures"; exit 1; }
F=$T/fx

bad_ckpt() { # what file pattern
	expect_fail "info: $1" 3 "$3" "$EEPROF" info "$F/$2"
	expect_fail "infer: $1" 3 "$3" "$EEPROF" infer "$F/$2" --input "$F/images.h5" --output "$T/o.h5"
	no_file "infer: $1: no output" "$T/o.h5"
}
bad_ckpt "missing file" nosuch.h5 "'.*nosuch.h5': cannot open: No such file"
bad_ckpt "empty file" empty.h5 "'.*empty.h5': not an HDF5 file"
bad_ckpt "not HDF5" text.h5 "'.*text.h5': not an HDF5 file"
bad_ckpt "truncated" truncated.h5 "'.*truncated.h5': .*(truncated|corrupt)"
bad_ckpt "NaN weight" nan.h5 "tensor 'layer2.0.conv1.weight' holds NaN"
bad_ckpt "Inf weight" inf.h5 "tensor 'layer2.0.conv1.weight' holds Inf"
bad_ckpt "format_version 2" version2.h5 "format_version 2 is not supported"
bad_ckpt "no format attribute" noformat.h5 "not an eeprof checkpoint"
bad_ckpt "no arch, keys of none" nomatch.h5 "no architecture matches its keys; expected emgnet \(.*resnet-cifar \(conv1.weight"
bad_ckpt "unknown arch" foonet.h5 "unknown arch 'foonet' \(known: .*resnet"
bad_ckpt "missing tensor" missing.h5 "missing tensor 'layer2.0.conv1.weight'"
bad_ckpt "misshaped tensor" misshaped.h5 "tensor 'layer1.0.bn1.weight' has shape \[15\], the network needs \[16\]"
bad_ckpt "unused tensor" extra.h5 "tensor is not used by architecture 'resnet-cifar': 'layer9.weight'"
bad_ckpt "num_classes mismatch" classes.h5 "exit 1 gives 10 logits but num_classes is 7"
bad_ckpt "absurd input size" absurd.h5 "input_shape .* is out of range"
bad_ckpt "grouped conv where the architecture has none" grouped.h5 \
	"tensor 'layer2.0.conv2.weight' has shape \[32, 16, 3, 3\], the network needs \[32, 32, 3, 3\]"
bad_ckpt "6-channel input, 1-channel stem" sixchan.h5 \
	"tensor 'conv1.weight' has shape \[16, 1, 3, 3\], the network needs \[16, 6, 3, 3\]"
bad_ckpt "NaN mean" mean_nan.h5 "mean\[0\] = nan is not a number in"
bad_ckpt "1e300 mean" mean_huge.h5 "mean\[0\] = 1e\+300 is not a number in"
bad_ckpt "tiny std" std_tiny.h5 "std\[0\] = 1e-30 is not a number in"
bad_ckpt "fractional input_shape" fractional.h5 "input_shape \[1, 32.5, 32\] is not whole numbers"
bad_ckpt "fractional epochs" epochs_frac.h5 "attribute 'epochs' = 2.5 is out of range \\[0, 1000000\\] or not whole"
bad_ckpt "seed not a number" seed_text.h5 "attribute 'seed' is malformed \\(not one number\\)"
bad_ckpt "negative training seconds" seconds_neg.h5 "attribute 'train_seconds' = -1 is out of range"
bad_ckpt "negative running_var" negvar.h5 "tensor 'layer1.0.bn1.running_var' holds -0.5 at index 3"
bad_ckpt "tensor declared, never written" unwritten.h5 "tensor 'linear.weight' was declared but its data never written"
bad_ckpt "2 GiB declared in a small file" huge_decl.h5 "tensor 'linear.(weight|bias)' was declared but its data never written"

expect_fail "infer: channel mismatch" 3 "images.rgb.h5.*shape \[3, 3, 32, 32\] but the model takes \[N, 1, 32, 32\]" \
	"$EEPROF" infer "$F/good.h5" --input "$F/images_rgb.h5" --output "$T/o.h5"
expect_fail "infer: NaN image" 3 "input '.*images_nan.h5': /images holds NaN in image 1" \
	"$EEPROF" infer "$F/good.h5" --input "$F/images_nan.h5" --output "$T/o.h5"
expect_fail "infer: wrong rank" 3 "images_rank3.h5.*rank 3, expected 4" \
	"$EEPROF" infer "$F/good.h5" --input "$F/images_rank3.h5" --output "$T/o.h5"
expect_fail "infer: no /images" 3 "noimages.h5.*no dataset 'images'" \
	"$EEPROF" infer "$F/good.h5" --input "$F/noimages.h5" --output "$T/o.h5"
expect_fail "infer: input not HDF5" 3 "input '.*text.h5': not an HDF5 file" \
	"$EEPROF" infer "$F/good.h5" --input "$F/text.h5" --output "$T/o.h5"
expect_fail "infer: unwritable output" 3 "cannot create '$T/nodir/o.h5'" \
	"$EEPROF" infer "$F/good.h5" --input "$F/images.h5" --output "$T/nodir/o.h5"
no_file "infer: no output after failures" "$T/o.h5"

expect_fail "eval: missing dataset file" 3 "nosuch.h5" "$EEPROF" eval "$F/good.h5" --data "h5:$F/nosuch.h5"
expect_fail "eval: unknown dataset" 2 "unknown dataset 'imagenet'" "$EEPROF" eval "$F/good.h5" --data imagenet:test
expect_fail "eval: channel mismatch" 3 "3 channels but the model expects 1" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data_rgb.h5"
expect_fail "eval: labels beyond the classes" 3 "classes but the model predicts 10" "$EEPROF" eval "$F/good.h5" --data "h5:$F/data_100.h5"
expect_fail "eval: IDX header claims more than the file holds" 3 "t10k-images-idx3-ubyte.gz.*10000" \
	"$EEPROF" eval "$F/good.h5" --data "fashion-mnist:$F/idx:test"
