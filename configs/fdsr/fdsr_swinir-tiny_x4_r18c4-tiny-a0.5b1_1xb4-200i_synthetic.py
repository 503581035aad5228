# The tiny synthetic FDSR smoke config with a tiny SwinIR generator (MMagic's SwinIRNet: one RSTB
# of one block, 12 channels, 2 heads, window 4, classical pixel-shuffle x4 head) in place of the
# tiny DBPN; the feature prior (random tiny R18-C4 unless given), data and schedule are unchanged.
# The synthetic 64x64 HR images give 16x16 LR inputs: img_size 16 = 4x4 windows, shifted windows on.
_base_ = ['./fdsr_dbpn-tiny_x4_r18c4-tiny-a0.5b1_1xb4-200i_synthetic.py']

model = dict(generator=dict(
    _delete_=True, type='SwinIRNet', upscale=4, in_chans=3, img_size=16, window_size=4,
    img_range=1.0, depths=[1], embed_dim=12, num_heads=[2], mlp_ratio=2,
    upsampler='pixelshuffle', resi_connection='1conv'))
