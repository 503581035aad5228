# A 200-iteration smoke schedule for tiny models on CPU: Adam lr 3e-3 halved at 150, val every 100.
train_cfg = dict(type='IterBasedTrainLoop', max_iters=200, val_interval=100)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=3e-3, betas=(0.9, 0.999), eps=1e-8))
param_scheduler = dict(type='MultiStepLR', by_epoch=False, milestones=[150], gamma=0.5)
randomness = dict(seed=0)
