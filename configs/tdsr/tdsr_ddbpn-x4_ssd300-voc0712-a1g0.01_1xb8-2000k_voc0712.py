# TDSR ablation: gamma 0.01 (closer to pixel-only D-DBPN), everything else unchanged.
_base_ = ['./tdsr_ddbpn-x4_ssd300-voc0712-a1g0.1_1xb8-2000k_voc0712.py']

model = dict(task_loss=dict(loss_weight=0.01))
