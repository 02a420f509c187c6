/*
 * check_images.c - Pillow's resampling (core/resample.c), image decoding
 * (plugins/image_*.c) and torchvision's evaluation transforms (core/imgprep.c).
 *
 * Expected pixels were produced by Pillow 9.4.0 (Debian bookworm's python3-pil) on the
 * same inputs: Image.fromarray(a).resize((w, h), Image.BILINEAR / BICUBIC / NEAREST).
 * tests/parity/images.py checks the same code against Pillow and torchvision on real
 * photographs at test time.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/imgprep.h"
#include "core/resample.h"
#include "plugins/image.h"
#include "tests/unit/images_data.h"
#include "tests/unit/testutil.h"

/* The inputs of the expectations below: a smooth-ish RGB ramp and a 0/255 checkerboard. */
static void ramp(uint8_t *a, int w, int h)
{
	int x, y, c;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (c = 0; c < 3; c++)
				a[(y * w + x) * 3 + c] =
					(uint8_t)((x * 37 + y * 91 + c * 53 + (x * y) % 7 * 29) & 255);
}

static void checker(uint8_t *a, int w, int h)
{
	int x, y;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			a[y * w + x] = (uint8_t)((x + y) % 2 * 255);
}

/* Resizes the whole image and compares every value with Pillow's. */
static void check_resize(const uint8_t *src, int sw, int sh, int c, int dw, int dh,
			 enum ee_interp interp, const uint8_t *want)
{
	uint8_t got[512];
	struct ee_err err = { 0 };
	int i;

	ck_assert_int_le(dw * dh * c, (int)sizeof(got));
	ck_assert_int_eq(ee_resample(src, sw, sh, c, dw, dh, (struct ee_window){ 0, 0, dw, dh },
				     interp, got, &err), EE_OK);
	for (i = 0; i < dw * dh * c; i++)
		ck_assert_msg(got[i] == want[i], "%s %dx%d -> %dx%d: value %d is %d, Pillow %d",
			      ee_interp_name(interp), sw, sh, dw, dh, i, got[i], want[i]);
}

START_TEST(resample_bilinear_down)
{
	static const uint8_t want[] = { 96, 127, 114, 119, 123, 151, 166, 147, 95, 84, 117, 145,
					124, 120, 125, 146, 115, 109 };
	uint8_t a[7 * 5 * 3];

	ramp(a, 7, 5);
	check_resize(a, 7, 5, 3, 3, 2, EE_INTERP_BILINEAR, want);
}
END_TEST

/* Upscaling a checkerboard overshoots: the horizontal pass clips to 0..255 before the
 * vertical one, which is what makes the rows of 128 in the middle. */
START_TEST(resample_bicubic_up_clips)
{
	static const uint8_t want[] = {
		0, 71, 255, 152, 0, 152, 255, 71, 0, 87, 112, 165, 134, 87, 134, 165, 112, 87,
		251, 175, 12, 107, 251, 107, 12, 175, 251, 128, 128, 128, 128, 128, 128, 128, 128,
		128, 4, 80, 243, 148, 4, 148, 243, 80, 4, 168, 143, 90, 121, 168, 121, 90, 143, 168,
		255, 184, 0, 103, 255, 103, 0, 184, 255 };
	uint8_t a[5 * 4];

	checker(a, 5, 4);
	check_resize(a, 5, 4, 1, 9, 7, EE_INTERP_BICUBIC, want);
}
END_TEST

START_TEST(resample_one_axis)
{
	static const uint8_t width[] = {
		19, 72, 125, 77, 130, 183, 145, 198, 200, 203, 122, 65, 126, 166, 110, 157, 76, 78,
		94, 147, 149, 196, 115, 59, 110, 163, 82, 124, 105, 158, 152, 134, 135, 109, 162,
		105, 70, 123, 176, 85, 138, 119, 126, 128, 109, 153, 97, 150, 69, 110, 163, 141, 61,
		114, 103, 104, 157, 178, 121, 40 };
	static const uint8_t height[] = {
		40, 93, 146, 87, 140, 79, 142, 81, 134, 74, 127, 188, 129, 182, 235, 175, 236, 25,
		230, 19, 72, 128, 181, 86, 84, 137, 127, 114, 113, 166, 169, 73, 63, 90, 143, 196,
		198, 197, 48, 89, 88, 151, 68, 121, 174, 61, 114, 175, 121, 32, 85, 145, 198, 137,
		55, 108, 161, 221, 10, 71, 131, 192, 95 };
	uint8_t a[7 * 5 * 3];

	ramp(a, 7, 5);
	check_resize(a, 7, 5, 3, 4, 5, EE_INTERP_BILINEAR, width);
	check_resize(a, 7, 5, 3, 7, 3, EE_INTERP_BICUBIC, height);
	check_resize(a, 7, 5, 3, 7, 5, EE_INTERP_BICUBIC, a); /* same size: a copy */
}
END_TEST

START_TEST(resample_nearest)
{
	static const uint8_t down[] = { 0, 53, 106, 74, 127, 180, 148, 201, 254, 222, 19, 72, 182,
					235, 32, 116, 169, 222, 103, 156, 209, 37, 90, 143, 108,
					161, 214, 211, 8, 61, 58, 111, 164, 161, 214, 11 };
	static const uint8_t up_row[] = { 0, 53, 106, 0, 53, 106, 37, 90, 143, 37, 90, 143, 37,
					  90, 143, 74, 127, 180, 74, 127, 180 };
	static const uint8_t up_row2[] = { 91, 144, 197, 91, 144, 197, 157, 210, 7, 157, 210, 7,
					   157, 210, 7, 223, 20, 73, 223, 20, 73 };
	uint8_t a[7 * 5 * 3], up[7 * 5 * 3];
	int y;

	ramp(a, 7, 5);
	check_resize(a, 7, 5, 3, 4, 3, EE_INTERP_NEAREST, down);
	/* 3x2 -> 7x5: rows 0-1 repeat source row 0, rows 2-4 source row 1. */
	for (y = 0; y < 5; y++)
		memcpy(up + y * 21, y < 2 ? up_row : up_row2, 21);
	ramp(a, 3, 2);
	check_resize(a, 3, 2, 3, 7, 5, EE_INTERP_NEAREST, up);
}
END_TEST

/* A window of the resize equals the same rectangle of the whole resize. */
START_TEST(resample_window_is_part_of_whole)
{
	enum { SW = 23, SH = 17, DW = 11, DH = 29, C = 3 };
	uint8_t a[SW * SH * C], whole[DW * DH * C], part[DW * DH * C];
	struct ee_err err = { 0 };
	int interp, y;

	ramp(a, SW, SH);
	for (interp = 0; interp <= EE_INTERP_NEAREST; interp++) {
		struct ee_window win = { 3, 5, 6, 19 };

		ck_assert_int_eq(ee_resample(a, SW, SH, C, DW, DH, (struct ee_window){ 0, 0, DW,
					     DH }, interp, whole, &err), EE_OK);
		ck_assert_int_eq(ee_resample(a, SW, SH, C, DW, DH, win, interp, part, &err), EE_OK);
		for (y = 0; y < win.h; y++)
			ck_assert_mem_eq(part + y * win.w * C,
					 whole + ((y + win.y) * DW + win.x) * C, (size_t)win.w * C);
	}
}
END_TEST

START_TEST(resample_bad_arguments)
{
	uint8_t a[12], b[12];
	struct ee_err err = { 0 };

	memset(a, 7, sizeof(a));
	ck_assert_int_eq(ee_resample(a, 2, 2, 3, 2, 2, (struct ee_window){ 1, 0, 2, 2 },
				     EE_INTERP_BILINEAR, b, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_resample(a, 0, 2, 3, 2, 2, (struct ee_window){ 0, 0, 2, 2 },
				     EE_INTERP_BILINEAR, b, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_resample(a, 2, 2, 5, 2, 2, (struct ee_window){ 0, 0, 1, 1 },
				     EE_INTERP_BILINEAR, b, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_interp_parse("bicubic"), EE_INTERP_BICUBIC);
	ck_assert_int_eq(ee_interp_parse("lanczos"), -1);
	ck_assert_str_eq(ee_interp_name(EE_INTERP_NEAREST), "nearest");
}
END_TEST

/* ---- decoding ---- */

/* Decodes a buffer and compares every value with Pillow's. */
static void check_decode(const uint8_t *file, size_t len, int channels, int w, int h,
			 const uint8_t *want)
{
	struct ee_image img;
	struct ee_err err = { 0 };
	int i;

	ck_assert_msg(ee_image_decode(&img, file, len, channels, "x", &err) == EE_OK, "%s",
		      err.msg);
	ck_assert_int_eq(img.w, w);
	ck_assert_int_eq(img.h, h);
	ck_assert_int_eq(img.c, channels);
	for (i = 0; i < w * h * channels; i++)
		ck_assert_msg(img.px[i] == want[i], "value %d is %d, Pillow %d", i, img.px[i],
			      want[i]);
	ee_image_release(&img);
	ck_assert_ptr_null(img.px);
}

/* Decoding must fail with EE_ERR_INPUT and a message naming the file and saying what. */
static void check_undecodable(const uint8_t *file, size_t len, const char *what)
{
	struct ee_image img;
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_image_decode(&img, file, len, 3, "f.png", &err), EE_ERR_INPUT);
	ck_assert_ptr_null(img.px);
	ck_assert_msg(strstr(err.msg, "image 'f.png': ") == err.msg, "%s", err.msg);
	ck_assert_msg(strstr(err.msg, what) != NULL, "'%s' does not say '%s'", err.msg, what);
}

START_TEST(decode_jpeg_rgb_and_l)
{
	check_decode(jpeg_rgb, sizeof(jpeg_rgb), 3, 5, 4, jpeg_rgb_as_rgb);
	check_decode(jpeg_rgb, sizeof(jpeg_rgb), 1, 5, 4, jpeg_rgb_as_l);
}
END_TEST

START_TEST(decode_jpeg_cmyk_inverted)
{
	check_decode(jpeg_cmyk, sizeof(jpeg_cmyk), 3, 3, 2, jpeg_cmyk_as_rgb);
}
END_TEST

START_TEST(decode_png_palette_past_end_is_grey)
{
	check_decode(png_palette, sizeof(png_palette), 3, 4, 2, png_palette_as_rgb);
}
END_TEST

START_TEST(decode_png_gray16_clips)
{
	check_decode(png_gray16, sizeof(png_gray16), 1, 4, 2, png_gray16_as_l);
}
END_TEST

START_TEST(decode_bad_input)
{
	static const uint8_t text[] = "hello, not an image";
	uint8_t broken[sizeof(png_gray16)], bad_jpeg[sizeof(jpeg_rgb)];
	struct ee_image img;
	struct ee_err err = { 0 };

	check_undecodable(jpeg_rgb, sizeof(jpeg_rgb) / 2, "truncated JPEG");
	check_undecodable(png_gray16, sizeof(png_gray16) - 20, "truncated PNG");
	check_undecodable(text, sizeof(text), "not a JPEG or PNG image");
	memcpy(bad_jpeg, jpeg_rgb, sizeof(bad_jpeg));
	bad_jpeg[3] = 0x73; /* not a marker */
	check_undecodable(bad_jpeg, sizeof(bad_jpeg), "corrupt JPEG: Unsupported marker");
	memcpy(broken, png_gray16, sizeof(broken));
	broken[20] ^= 0xff; /* inside IHDR: its CRC no longer matches */
	check_undecodable(broken, sizeof(broken), "corrupt PNG");
	ck_assert_int_eq(ee_image_decode(&img, jpeg_rgb, sizeof(jpeg_rgb), 2, "x", &err),
			 EE_ERR_INPUT);
	ck_assert_int_eq(ee_image_load(&img, "/nonexistent/x.jpg", 3, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "image '/nonexistent/x.jpg': cannot open: No such file or "
			 "directory");
}
END_TEST

/* ---- torchvision's Resize + CenterCrop geometry ---- */

/* A w x h grey image whose pixel (x, y) is 10 y + x + 1 (never 0, the padding). */
static uint8_t *numbered(int w, int h)
{
	uint8_t *a = malloc((size_t)w * h);
	int i;

	for (i = 0; i < w * h; i++)
		a[i] = (uint8_t)(10 * (i / w) + i % w + 1);
	return a;
}

/* Crop/pad only: out (H x W) must read source (x0 + x, y0 + y), or 0 outside it. */
static void check_crop(int w, int h, int out_h, int out_w, int x0, int y0)
{
	struct ee_imgprep p = { EE_IMGPREP_NO_RESIZE, EE_INTERP_BILINEAR };
	struct ee_err err = { 0 };
	uint8_t *a = numbered(w, h), *o = malloc((size_t)out_h * out_w);
	int x, y;

	ck_assert_int_eq(ee_imgprep_apply(a, w, h, 1, out_h, out_w, &p, "x", o, &err), EE_OK);
	for (y = 0; y < out_h; y++)
		for (x = 0; x < out_w; x++) {
			int sx = x0 + x, sy = y0 + y;
			int want = sx >= 0 && sx < w && sy >= 0 && sy < h ? a[sy * w + sx] : 0;

			ck_assert_msg(o[y * out_w + x] == want, "%dx%d -> %dx%d at (%d, %d): %d, "
				      "want %d", w, h, out_w, out_h, x, y, o[y * out_w + x], want);
		}
	free(a);
	free(o);
}

/* Offsets are Python's round(diff / 2): halves to even (1.5 -> 2, 2.5 -> 2, 3.5 -> 4);
 * padding puts diff // 2 before and the rest after. */
START_TEST(imgprep_center_crop_rounds_half_even)
{
	check_crop(5, 3, 4, 4, 0, 0);   /* width diff 1 -> 0; height padded 0 before, 1 after */
	check_crop(7, 6, 4, 4, 2, 1);   /* diff 3 -> 2, diff 2 -> 1 */
	check_crop(9, 11, 4, 4, 2, 4);  /* diff 5 -> 2, diff 7 -> 4 */
	check_crop(2, 2, 5, 5, -1, -1); /* padded 1 before, 2 after */
	check_crop(2, 9, 5, 4, -1, 2);  /* pad the width, crop the height */
}
END_TEST

START_TEST(imgprep_resize_shorter_side)
{
	struct ee_imgprep def = { 0, EE_INTERP_BILINEAR }, s50 = { 50, EE_INTERP_BILINEAR };
	struct ee_err err = { 0 };
	uint8_t *a = numbered(40, 30), out[20 * 20], ref[66 * 50];
	int y;

	ck_assert_int_eq(ee_imgprep_short_side(&def, 224), 256);
	ck_assert_int_eq(ee_imgprep_short_side(&def, 32), 37);
	ck_assert_int_eq(ee_imgprep_short_side(&s50, 224), 50);
	/* 40x30 -> shorter side 50: 66x50 (int(50 * 40 / 30)), then the centre 20x20 at
	 * (23, 15) of it. */
	ck_assert_int_eq(ee_imgprep_apply(a, 40, 30, 1, 20, 20, &s50, "x", out, &err), EE_OK);
	ck_assert_int_eq(ee_resample(a, 40, 30, 1, 66, 50, (struct ee_window){ 0, 0, 66, 50 },
				     EE_INTERP_BILINEAR, ref, &err), EE_OK);
	for (y = 0; y < 20; y++)
		ck_assert_mem_eq(out + y * 20, ref + (y + 15) * 66 + 23, 20);
	s50.resize = 1 << 16;
	ck_assert_int_eq(ee_imgprep_apply(a, 40, 30, 1, 20, 20, &s50, "big.jpg", out, &err),
			 EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "image 'big.jpg': ") == err.msg, "%s", err.msg);
	free(a);
}
END_TEST

static Suite *images_suite(void)
{
	const TTest *const resample[] = { resample_bilinear_down, resample_bicubic_up_clips,
					  resample_one_axis, resample_nearest,
					  resample_window_is_part_of_whole, resample_bad_arguments,
					  NULL };
	const TTest *const decode[] = { decode_jpeg_rgb_and_l, decode_jpeg_cmyk_inverted,
					decode_png_palette_past_end_is_grey, decode_png_gray16_clips,
					decode_bad_input, NULL };
	const TTest *const imgprep[] = { imgprep_center_crop_rounds_half_even,
					 imgprep_resize_shorter_side, NULL };
	Suite *s = suite_create("images");

	tu_add_case(s, "resample", resample, 10);
	tu_add_case(s, "decode", decode, 10);
	tu_add_case(s, "imgprep", imgprep, 10);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(images_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
