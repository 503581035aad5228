# The paper's FDSR setting (alpha 0.5, beta 1, Mask R-CNN R50-C4 feature prior, COCO 20k, Adam 1e-4,
# batch 8, 2e6 iters) with MMagic's SwinIRNet as the generator instead of D-DBPN: the classical
# x4 SwinIR-M of mmagic::swinir/swinir_x4s64w8d6e180_8xb4-lr2e-4-500k_df2k.py (6 RSTBs of 6
# blocks, 180 channels, window 8; asserted equal in tests). Input and output are RGB [0, 1]
# (img_range=1.0; SwinIRNet subtracts and re-adds the DIV2K RGB mean in [0, 1] units). It pads the
# LR image to a multiple of the window internally (reflect) and crops the output, so any LR size
# works, whole or tiled (tiles need tile_pad >= 4: a patch side <= window / 2 cannot be padded).
# img_size=64 is MMagic's (LR 64 patches; it sizes the attention-mask buffers saved in checkpoints);
# our LR crops are 40x40 (5x5 windows), for which the shifted-window masks are made at run time.
# Weights (optional; without them the generator starts from random init): MMagic's released x4
# SwinIR, swinir_x4s64w8d6e180_8xb4-lr2e-4-500k_df2k-0502d775.pth (listed in MMagic's
# configs/swinir/README.md; restorer keys `generator.*`), put in checkpoints/ and passed as
#   --cfg-options load_from=checkpoints/swinir_x4s64w8d6e180_8xb4-lr2e-4-500k_df2k-0502d775.pth
# The authors' file (001_classicalSR_DF2K_s64w8_SwinIR-M_x4.pth) has the same module names under
# 'params': save {'state_dict': {'generator.' + k: v}} of it and pass that file instead.
_base_ = ['./fdsr_ddbpn-x4_maskrcnn-r50c4-a0.5b1_1xb8-2000k_coco20k.py']

model = dict(generator=dict(
    _delete_=True, type='SwinIRNet', upscale=4, in_chans=3, img_size=64, window_size=8,
    img_range=1.0, depths=[6, 6, 6, 6, 6, 6], embed_dim=180, num_heads=[6, 6, 6, 6, 6, 6],
    mlp_ratio=2, upsampler='pixelshuffle', resi_connection='1conv'))
