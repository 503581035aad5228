# The FDSR paper's fine-tuning schedule: Adam(lr 1e-4, betas (0.9, 0.999), eps 1e-8), constant
# learning rate, 2e6 iterations (batch 8 is set by the dataset config).
train_cfg = dict(type='IterBasedTrainLoop', max_iters=2_000_000, val_interval=50_000)
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=1e-4, betas=(0.9, 0.999), eps=1e-8))
