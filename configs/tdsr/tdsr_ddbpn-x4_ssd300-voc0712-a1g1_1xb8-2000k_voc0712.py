# TDSR ablation: gamma 1 (the task term at the pixel term's weight), everything else unchanged.
_base_ = ['./tdsr_ddbpn-x4_ssd300-voc0712-a1g0.1_1xb8-2000k_voc0712.py']

model = dict(task_loss=dict(loss_weight=1.0))
