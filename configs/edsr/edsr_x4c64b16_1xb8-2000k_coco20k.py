# The paper's Table 1 "EDSR" baseline through MMagic's own EDSRNet, with the same data, schedule
# and evaluation as the D-DBPN row. The generator equals the one of
# mmagic::edsr/edsr_x4c64b16_1xb16-300k_div2k.py (asserted in tests), so MMagic's released x4
# checkpoint loads: `load_from=checkpoints/edsr_x4c64b16_1x16_300k_div2k_20200608-3c2af8a3.pth`
# for evaluation as released, or as the start of fine-tuning.
# Note: MMagic's x4 EDSR is the 16-block, 64-channel model, not the paper-size EDSR (32 x 256).
_base_ = ['../dbpn/ddbpn_x4_1xb8-2000k_coco20k.py']

model = dict(generator=dict(
    _delete_=True, type='EDSRNet', in_channels=3, out_channels=3, mid_channels=64, num_blocks=16,
    upscale_factor=4, res_scale=1, rgb_mean=[0.4488, 0.4371, 0.4040], rgb_std=[1.0, 1.0, 1.0]))
load_from = 'checkpoints/edsr_x4c64b16_1x16_300k_div2k_20200608-3c2af8a3.pth'
